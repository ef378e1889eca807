/**
 * stdio bridge: a real SDK client spawns `bastion run --stdio <url>` (and `bastion stdio <name>`)
 * as its server command. stdout must carry MCP messages only.
 */
import { spawn } from 'node:child_process';
import { freePort } from '@bastion-mcp/testkit';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { type McpUpstream, startMcpUpstream } from '@bastion-mcp/testkit';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BIN, createSandbox, ensureBuilt, type Sandbox } from './helpers/cli.js';
import { textOf } from './helpers/mcp.js';
import { type ProtectedRemote, startProtectedRemote, waitForOutput } from './helpers/oauth.js';

let up: McpUpstream;
let sb: Sandbox;

beforeAll(async () => {
  ensureBuilt();
  up = await startMcpUpstream();
  sb = createSandbox();
});

afterAll(async () => {
  sb?.cleanup();
  await up?.close();
});

async function connectStdio(args: string[]): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, ...args],
    env: sb.env as Record<string, string>,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const client = new Client({ name: 'stdio-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

describe('bastion run --stdio', () => {
  it('bridges a stdio MCP client to the remote through the proxy chain; logs go to stderr only', async () => {
    const { client, stderr } = await connectStdio([
      'run',
      '--stdio',
      up.url,
      '--name',
      'bridge',
      '--tools',
      'echo,add,progress',
    ]);
    const tools = await client.listTools();
    // the same policy chain as the HTTP proxy: the tool filter applies
    expect(tools.tools.map((t) => t.name).sort()).toEqual(['add', 'echo', 'progress']);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'over stdio' } }))).toBe(
      'over stdio',
    );
    await client.close();
    expect(stderr()).toContain('listening on');
  });

  it('is reused by later launches of the same command (the client starts it every time)', async () => {
    const { client } = await connectStdio([
      'run',
      '--stdio',
      up.url,
      '--name',
      'bridge',
      '--tools',
      'echo,add,progress',
    ]);
    expect(textOf(await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } }))).toBe('5');
    await client.close();
  });
});

describe('stdout discipline', () => {
  it('writes only JSON-RPC lines to stdout, progress notifications before the result', async () => {
    const child = spawn(process.execPath, [BIN, 'run', '--stdio', up.url, '--name', 'bridge'], {
      env: sb.env,
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const send = (m: object) => child.stdin.write(`${JSON.stringify(m)}\n`);
    const lines = () => out.split('\n').filter(Boolean);
    send({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    await waitForOutput(() => out, /"id":0/);
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'progress', arguments: { steps: 3 }, _meta: { progressToken: 'p' } },
    });
    await waitForOutput(() => out, /"id":1,/);
    child.stdin.end();
    await new Promise((r) => child.once('close', r));
    const messages = lines().map(
      (l) => JSON.parse(l) as { id?: number; method?: string; params?: { progress?: number } },
    );
    expect(messages.every((m) => (m as { jsonrpc?: string }).jsonrpc === '2.0')).toBe(true);
    const afterInit = messages.slice(1);
    expect(afterInit.map((m) => m.params?.progress ?? `result ${m.id}`)).toEqual([1, 2, 3, 'result 1']);
  });
});

describe('bastion stdio <name>', () => {
  it('bridges to a running workload', async () => {
    expect((await sb.run(['run', up.url, '--name', 'http'])).code).toBe(0);
    const { client } = await connectStdio(['stdio', 'http']);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'via workload' } }))).toBe(
      'via workload',
    );
    await client.close();
    expect((await sb.run(['rm', 'http'])).code).toBe(0);
  });

  it('explains how to start a stopped workload', async () => {
    const r = await sb.run(['stdio', 'bridge']);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('bastion restart bridge');
  });
});

describe('bastion run --stdio with OAuth', () => {
  let remote: ProtectedRemote;
  beforeAll(async () => {
    remote = await startProtectedRemote();
  });
  afterAll(async () => {
    await remote?.close();
  });

  it('logs in on stderr, keeps stdout for MCP, and reuses the stored login on the next launch', async () => {
    let stderr = '';
    const login = sb.run(['login', 'nothing']);
    expect((await login).code).toBe(3);
    // first launch: the login URL goes to stderr while stdout stays silent
    const callbackPort = await freePort(); // the port derived from the URL may be taken on a shared machine
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [
        BIN,
        'run',
        '--stdio',
        remote.up.url,
        '--name',
        'oauthbridge',
        '--no-browser',
        '--scopes',
        'mcp:tools',
        '--callback-port',
        String(callbackPort),
      ],
      env: sb.env as Record<string, string>,
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const client = new Client({ name: 'stdio-oauth', version: '1.0.0' });
    const connected = client.connect(transport);
    const [, url] = await waitForOutput(() => stderr, /^\s+(http:\/\/127\.0\.0\.1:\d+\/\S*auth\S*)$/m);
    await remote.idp.authorize(url as string, { username: 'alice', deliver: true });
    await connected;
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'secure stdio' } }))).toBe(
      'secure stdio',
    );
    await client.close();

    const again = await connectStdio([
      'run',
      '--stdio',
      remote.up.url,
      '--name',
      'oauthbridge',
      '--no-browser',
    ]);
    expect(textOf(await again.client.callTool({ name: 'echo', arguments: { text: 'no login' } }))).toBe(
      'no login',
    );
    await again.client.close();
    expect(again.stderr()).not.toContain('Sign in');
  });
});
