/**
 * Every class of configuration error makes the real binary exit with code 2 and one fatal JSON log
 * line naming what is wrong; runtime failures exit 1.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { readExample } from './helpers/examples.js';
import { ensureBuilt, type LogLine, startRunner, writeConfig } from './helpers/runner-process.js';

beforeAll(() => ensureBuilt(), 300_000);

const anonymous = {
  schemaVersion: 1,
  name: 'errors',
  remoteUrl: 'http://127.0.0.1:9/mcp',
  insecureLoopback: true,
  listen: { port: 0 },
  auth: { mode: 'anonymous' },
};

async function fails(args: string[], env: Record<string, string> = {}) {
  const runner = startRunner(args, env);
  const code = await runner.exited;
  const fatal = runner.lines.filter((l: LogLine) => l.level === 'fatal');
  return { code, fatal, output: runner.output() };
}

describe('configuration errors (exit code 2, one clear message)', () => {
  it('refuses to start without inbound auth unless anonymous mode is explicit', async () => {
    const { auth: _auth, ...noAuth } = anonymous;
    const r = await fails(['--config', writeConfig(noAuth)]);
    expect(r.code).toBe(2);
    expect(r.fatal).toHaveLength(1);
    expect(r.fatal[0]?.msg).toMatch(/^Invalid RunConfig \(.*\): auth: required: .*"anonymous" \} explicitly/);
    expect(r.fatal[0]?.code).toBe('ERR_BASTION_RUNCONFIG_INVALID');
    expect(r.fatal[0]?.issues).toEqual([{ path: 'auth', message: expect.any(String) }]);
  });

  it.each([
    ['a file that is not JSON', '{ "schemaVersion": 1,', /\(root\): not valid JSON/],
    ['an unknown key', { ...anonymous, listne: {} }, /listne: unknown key/],
    ['a value of the wrong shape', { ...anonymous, listen: { port: 'eighty' } }, /listen\.port:/],
    [
      'a literal secret where an environment variable name belongs',
      { ...anonymous, upstreamAuth: { bearerTokenEnv: 'ghp_0123456789abcdef0123456789abcdef0123' } },
      /upstreamAuth\.bearerTokenEnv: must name an environment variable/,
    ],
    [
      'a restricted forwarded header',
      { ...anonymous, headerForward: { plain: { Host: 'evil.example' } } },
      /headerForward\.plain\.Host: .*restricted/,
    ],
    [
      'a refused remote URL (cloud metadata address)',
      { ...anonymous, remoteUrl: 'https://169.254.169.254/mcp' },
      /remoteUrl: refused: cloud metadata address/,
    ],
    [
      'plain http to a non-loopback remote',
      { ...anonymous, remoteUrl: 'http://mcp.example.com/mcp' },
      /remoteUrl: refused: https is required/,
    ],
  ])('reports %s with its path', async (_label, config, pattern) => {
    const r = await fails(['--config', writeConfig(config)]);
    expect(r.code).toBe(2);
    expect(r.fatal).toHaveLength(1);
    expect(String(r.fatal[0]?.msg)).toMatch(pattern);
    // The literal secret is never echoed back.
    expect(r.output).not.toContain('ghp_0123456789abcdef');
  });

  it('reports a missing secret by field and variable name', async () => {
    const cfg = { ...anonymous, upstreamAuth: { bearerTokenEnv: 'REMOTE_TOKEN' } };
    const r = await fails(['--config', writeConfig(cfg)]);
    expect(r.code).toBe(2);
    expect(r.fatal[0]?.code).toBe('ERR_BASTION_SECRET_UNAVAILABLE');
    expect(r.fatal[0]?.msg).toMatch(
      /upstreamAuth\.bearerTokenEnv: environment variable REMOTE_TOKEN is not set/,
    );
  });

  it('reports a Cedar policy that does not parse under authz', async () => {
    const cfg = { ...anonymous, authz: { policies: ['permit (principal, action, resource'] } };
    const r = await fails(['--config', writeConfig(cfg)]);
    expect(r.code).toBe(2);
    expect(r.fatal[0]?.msg).toMatch(/^Cannot start: Invalid RunConfig: authz: /);
  });

  it('reports a remote name that resolves to a refused address (loopback without insecureLoopback)', async () => {
    const r = await fails([
      '--config',
      writeConfig({ ...anonymous, insecureLoopback: false, remoteUrl: 'https://localhost:9/mcp' }),
    ]);
    expect(r.code).toBe(2);
    expect(r.fatal[0]?.code).toBe('ERR_BASTION_REMOTE_URL_REFUSED');
    expect(r.fatal[0]?.msg).toMatch(/localhost resolves to a refused address: loopback/);
  });

  it('reports a missing file, a missing --config and a bad flag', async () => {
    const missing = await fails(['--config', '/nonexistent/runconfig.json']);
    expect(missing.code).toBe(2);
    expect(missing.fatal[0]?.msg).toMatch(/cannot read \/nonexistent\/runconfig\.json: ENOENT/);
    const none = await fails([]);
    expect(none.code).toBe(2);
    expect(none.fatal[0]?.msg).toMatch(/pass --config <file> or set BASTION_RUNCONFIG/);
    const flag = await fails(['--confgi', 'x']);
    expect(flag.code).toBe(2);
    expect(flag.output).toMatch(/unknown option '--confgi'/);
  });

  it('reads the RunConfig path from BASTION_RUNCONFIG and validates with --check', async () => {
    const path = writeConfig(readExample('anonymous.yaml'), 'runconfig.yaml');
    const r = await fails(['--check'], { BASTION_RUNCONFIG: path });
    expect(r.code).toBe(0);
    expect(r.fatal).toHaveLength(0);
    expect(r.output).toMatch(/RunConfig is valid/);
  });
});

describe('runtime errors (exit code 1)', () => {
  it('exits 1 when the listen port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const r = await fails(['--config', writeConfig({ ...anonymous, listen: { port } })]);
      expect(r.code).toBe(1);
      expect(r.fatal[0]?.msg).toMatch(/EADDRINUSE/);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });
});
