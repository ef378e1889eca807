/**
 * SSRF defences through the real binary: an upstream redirect to the cloud metadata address is not
 * followed (502), and a remote whose name resolves to a refused address never starts.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ensureBuilt, startRunner, writeConfig } from './helpers/runner-process.js';

let remote: Server;
let remoteUrl: string;
let hits = 0;

beforeAll(async () => {
  ensureBuilt();
  remote = createServer((req, res) => {
    hits++;
    req.resume();
    res
      .writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' })
      .end();
  });
  await new Promise<void>((r) => remote.listen(0, '127.0.0.1', r));
  remoteUrl = `http://127.0.0.1:${(remote.address() as AddressInfo).port}/mcp`;
}, 300_000);

afterAll(async () => {
  remote.closeAllConnections();
  await new Promise<void>((r) => remote.close(() => r()));
});

const base = (url: string, over: Record<string, unknown> = {}) => ({
  schemaVersion: 1,
  name: 'ssrf',
  remoteUrl: url,
  insecureLoopback: true,
  listen: { port: 0 },
  auth: { mode: 'anonymous' },
  ...over,
});

describe('SSRF refusals (real binary)', () => {
  it('does not follow an upstream redirect to 169.254.169.254', async () => {
    const runner = startRunner(['--config', writeConfig(base(remoteUrl))]);
    try {
      const url = String((await runner.listening()).url);
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/list' }),
      });
      expect(res.status).toBe(502);
      const body = (await res.json()) as { id: number; error: { code: number; message: string } };
      expect(body.id).toBe(5);
      expect(body.error.message).not.toContain('169.254');
      expect(hits).toBe(1);
      const warn = await runner.waitFor((l) => /redirect .*refused/.test(String(l.msg)));
      expect(warn.level).toBe('warn');
      expect(warn.requestId).toEqual(expect.any(String));
    } finally {
      expect(await runner.stop()).toBe(0);
    }
  });

  it('refuses to start when the remote name resolves to a refused address', async () => {
    const port = new URL(remoteUrl).port;
    // "localhost" resolves to a loopback address: refused unless insecureLoopback (no network needed).
    const runner = startRunner([
      '--config',
      writeConfig(base(`https://localhost:${port}/mcp`, { insecureLoopback: false })),
    ]);
    expect(await runner.exited).toBe(2);
    const fatal = runner.lines.find((l) => l.level === 'fatal');
    expect(fatal?.code).toBe('ERR_BASTION_REMOTE_URL_REFUSED');
    expect(String(fatal?.msg)).toMatch(/resolves to a refused address/);
    expect(hits).toBe(1);
  });

  it('refuses a literal link-local remote at validation', async () => {
    const runner = startRunner([
      '--config',
      writeConfig(base('https://169.254.10.10/mcp', { insecureLoopback: false })),
    ]);
    expect(await runner.exited).toBe(2);
    expect(String(runner.lines.find((l) => l.level === 'fatal')?.msg)).toMatch(
      /remoteUrl: refused: link-local address/,
    );
  });
});
