/** Help, version, completion scripts, error paths (one line with the fix), authz check, proxy --config. */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { type McpUpstream, startMcpUpstream } from '@bastion-mcp/testkit';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BIN, CLI_ROOT, createSandbox, ensureBuilt, type Sandbox } from './helpers/cli.js';
import { textOf, withClient } from './helpers/mcp.js';
import { waitForOutput } from './helpers/oauth.js';

let sb: Sandbox;
let up: McpUpstream;
let blocker: Server;
let busyPort: number;

beforeAll(async () => {
  ensureBuilt();
  sb = createSandbox();
  up = await startMcpUpstream();
  blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  busyPort = (blocker.address() as { port: number }).port;
});

afterAll(async () => {
  sb?.cleanup();
  await up?.close();
  await new Promise<void>((r) => blocker.close(() => r()));
});

describe('help and version', () => {
  it('--version prints the package version', async () => {
    const r = await sb.run(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it.each([
    ['run'],
    ['list'],
    ['status'],
    ['stop'],
    ['restart'],
    ['rm'],
    ['logs'],
    ['login'],
    ['logout'],
    ['stdio'],
    ['proxy'],
    ['completion'],
    ['client', 'setup'],
    ['client', 'remove'],
    ['authz', 'check'],
  ])('%s --help shows examples', async (...cmd) => {
    const r = await sb.run([...cmd.filter(Boolean), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('$ bastion');
  });

  it('prints no colour codes when stdout is not a TTY', async () => {
    const r = await sb.run(['list'], { env: { NO_COLOR: '' } });
    expect(r.stdout).not.toContain('\u001b[');
  });
});

describe('completion scripts', () => {
  it('bash: completes commands, options and workload names', async () => {
    const r = await sb.run(['completion', 'bash']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('complete -o default -F _bastion bastion');
    expect(r.stdout).toMatch(/"run"\) words="[^"]*--device-code/);
    expect(r.stdout).toMatch(/"client setup"\) words="[^"]*claude-desktop cursor vscode claude-code/);
    expect(r.stdout).toContain('bastion __complete workloads');
    expect(r.stdout).not.toContain('__serve');
  });

  it('zsh and fish', async () => {
    const z = await sb.run(['completion', 'zsh']);
    expect(z.stdout.split('\n')[0]).toBe('#compdef bastion');
    const f = await sb.run(['completion', 'fish']);
    expect(f.stdout).toContain("complete -c bastion -n '__fish_use_subcommand' -a run");
    expect(f.stdout).toContain('-l no-browser');
  });

  it('the bash script really completes in bash', async () => {
    const script = join(sb.dir, 'bastion.bash');
    writeFileSync(script, (await sb.run(['completion', 'bash'])).stdout);
    const out = await new Promise<string>((resolve) => {
      const b = spawn('bash', [
        '-c',
        `source ${script}; COMP_WORDS=(bastion cl); COMP_CWORD=1; _bastion; echo "\${COMPREPLY[@]}"; COMP_WORDS=(bastion client se); COMP_CWORD=2; _bastion; echo "\${COMPREPLY[@]}"`,
      ]);
      let o = '';
      b.stdout.on('data', (d: Buffer) => {
        o += d.toString();
      });
      b.on('close', () => resolve(o));
    });
    expect(out.split('\n').slice(0, 2)).toEqual(['client', 'setup']);
  });
});

describe('every error path prints one line with the fix', () => {
  const cases: [string, string[], number, RegExp][] = [
    ['unknown command', ['frobnicate'], 2, /bastion help/],
    ['unknown option', ['list', '--colour'], 2, /--help/],
    ['missing argument', ['status'], 2, /missing required argument/],
    ['not a URL', ['run', 'not-a-url'], 2, /full URL of the remote MCP server/],
    ['non-http URL', ['run', 'ftp://example.com/mcp'], 2, /full URL/],
    ['bad workload name', ['run', 'https://example.com/mcp', '--name', 'Bad_Name'], 2, /lower-case letters/],
    ['bad port', ['run', 'https://example.com/mcp', '--port', '99999'], 2, /port number/],
    [
      'exclusive token flags',
      ['run', 'https://example.com/mcp', '--bearer-token-file', 'a', '--bearer-token-env', 'B'],
      2,
      /only one/,
    ],
    [
      'client credentials without a client',
      ['run', 'https://example.com/mcp', '--client-credentials'],
      2,
      /--client-id/,
    ],
    ['unknown workload', ['stop', 'ghost'], 3, /bastion list --all/],
    ['unknown workload logs', ['logs', 'ghost'], 3, /bastion list --all/],
    ['unknown client', ['client', 'setup', 'emacs', 'x'], 2, /Allowed choices/],
    ['RunConfig file missing', ['proxy', '--config', '/nonexistent/run.yaml'], 2, /cannot read/],
  ];
  it.each(cases)('%s', async (_label, args, code, fix) => {
    const r = await sb.run(args);
    expect(r.code).toBe(code);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^bastion: /);
    expect(lines[0]).toMatch(fix);
  });

  it('a busy local port names the port and how to pick another', async () => {
    const r = await sb.run(['run', up.url, '--name', 'busy', '--port', String(busyPort)]);
    expect(r.code).toBe(4);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`port ${busyPort} is already in use`);
    expect(r.stderr).toContain('--port <free port>');
  });

  it('a missing bearer token env var at start', async () => {
    const r = await sb.run(['run', up.url, '--name', 'tok', '--bearer-token-env', 'NOT_SET_ANYWHERE']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('Export NOT_SET_ANYWHERE');
    expect((await sb.run(['rm', 'tok'])).code).toBe(0);
  });
});

describe('bastion authz check', () => {
  const policy = join(CLI_ROOT, 'test', 'fixtures', 'policy.cedar');
  let claims: string;
  let call: (tool: string) => string;
  beforeAll(() => {
    claims = join(sb.dir, 'claims.json');
    writeFileSync(claims, JSON.stringify({ sub: 'alice', groups: ['eng'] }));
    call = (tool) => {
      const f = join(sb.dir, `${tool}.json`);
      writeFileSync(
        f,
        JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: tool, arguments: {} },
        }),
      );
      return f;
    };
  });

  it('allows a read-only tool (exit 0) and names the policy', async () => {
    const r = await sb.run([
      'authz',
      'check',
      '--policy',
      policy,
      '--token',
      claims,
      '--request',
      call('get_weather'),
      '--annotations',
      '{"readOnlyHint":true}',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ALLOW/);
    expect(r.stdout).toContain('read-only');
  });

  it('denies a destructive tool (exit 7), with --json output', async () => {
    const r = await sb.run([
      'authz',
      'check',
      '--policy',
      policy,
      '--token',
      claims,
      '--request',
      call('delete_repo'),
      '--annotations',
      '{"destructiveHint":true}',
      '--json',
    ]);
    expect(r.code).toBe(7);
    expect(JSON.parse(r.stdout)).toMatchObject({ decision: 'deny', action: 'call_tool' });
  });

  it('reads claims from a JWT (payload decoded without verification)', async () => {
    const jwt = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'bob' })).toString('base64url')}.`;
    const f = join(sb.dir, 'token.jwt');
    writeFileSync(f, jwt);
    const r = await sb.run([
      'authz',
      'check',
      '--policy',
      policy,
      '--token',
      f,
      '--request',
      call('get_weather'),
      '--annotations',
      '{"readOnlyHint":true}',
      '--json',
    ]);
    expect(JSON.parse(r.stdout).principal).toMatchObject({ id: 'bob' });
  });
});

describe('bastion proxy --config', () => {
  it('runs a RunConfig in the foreground with its middleware and stops on SIGTERM', async () => {
    const file = join(sb.dir, 'run.yaml');
    writeFileSync(
      file,
      [
        'schemaVersion: 1',
        'name: fromfile',
        `remoteUrl: ${up.url}`,
        'insecureLoopback: true',
        'allowPrivateEndpoint: true',
        'listen: { host: 127.0.0.1, port: 0 }',
        'auth: { mode: anonymous }',
        'tools: { filter: [echo] }',
        '',
      ].join('\n'),
    );
    const child = spawn(process.execPath, [BIN, 'proxy', '--config', file], { env: sb.env });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const [, url] = await waitForOutput(() => stderr, /listening on (http:\/\/127\.0\.0\.1:\d+\/mcp)/);
    const names = await withClient(url as string, async (c) => {
      expect(textOf(await c.callTool({ name: 'echo', arguments: { text: 'cfg' } }))).toBe('cfg');
      return (await c.listTools()).tools.map((t) => t.name);
    });
    expect(names).toEqual(['echo']);
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('close', r));
    expect(code).toBe(0);
    expect(stdout).toBe('');
  });
});
