/**
 * Remote URL safety through startProxy: refused addresses after DNS resolution, at connect time
 * (DNS rebinding), and on upstream redirects. Name resolution uses an injected lookup so no external
 * network or resolver configuration is needed.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type McpUpstream, startMcpUpstream } from '@bastion-mcp/testkit';
import {
  type DnsLookup,
  RemoteUrlRefusedError,
  RemoteUrlUnresolvableError,
  RunConfigError,
  type RunConfigInput,
  startProxy,
  validateRunConfig,
} from '../src/index.js';
import { rpc } from './helpers/rpc.js';

/** A resolver answering from a table; `sequence` entries are used one per call (DNS rebinding). */
function fakeDns(table: Record<string, string | string[]>): DnsLookup & { calls: string[] } {
  const used = new Map<string, number>();
  const calls: string[] = [];
  const fn: DnsLookup = (hostname, _opts, cb) => {
    calls.push(hostname);
    const entry = table[hostname];
    if (entry === undefined) {
      return cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
    }
    const list = Array.isArray(entry) ? entry : [entry];
    const n = used.get(hostname) ?? 0;
    used.set(hostname, n + 1);
    const address = list[Math.min(n, list.length - 1)] as string;
    cb(null, [{ address, family: address.includes(':') ? 6 : 4 }]);
  };
  return Object.assign(fn, { calls });
}

const base = (remoteUrl: string, over: Partial<RunConfigInput> = {}): RunConfigInput => ({
  schemaVersion: 1,
  name: 'ssrf',
  remoteUrl,
  listen: { port: 0 },
  auth: { mode: 'anonymous' },
  ...over,
});

let upstream: McpUpstream;
let redirector: Server;
let redirectorPort = 0;
const warnings: Array<Record<string, unknown>> = [];
const logger = {
  debug() {},
  info() {},
  warn(obj: object, msg?: string) {
    warnings.push({ ...obj, msg });
  },
  error() {},
};

beforeAll(async () => {
  upstream = await startMcpUpstream({ stateless: true, jsonResponse: true });
  // A "remote" that redirects: /metadata → the cloud metadata address, /moved → its own /mcp.
  redirector = createServer((req, res) => {
    req.resume();
    if (req.url?.startsWith('/metadata')) {
      res.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/iam/' }).end();
    } else if (req.url?.startsWith('/moved')) {
      res.writeHead(307, { location: `${upstream.url}` }).end();
    } else if (req.url?.startsWith('/same')) {
      res.writeHead(307, { location: '/final' }).end();
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: 7, result: { tools: [] } }));
    }
  });
  await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
  redirectorPort = (redirector.address() as AddressInfo).port;
});

afterAll(async () => {
  await upstream?.close();
  redirector.closeAllConnections();
  await new Promise<void>((r) => redirector.close(() => r()));
});

describe('remote URL checks at start', () => {
  it('refuses a literal cloud-metadata or link-local remote at validation, naming remoteUrl', () => {
    for (const url of [
      'https://169.254.169.254/mcp',
      'https://[fe80::1]/mcp',
      'http://mcp.example.com/mcp',
    ]) {
      try {
        validateRunConfig(base(url));
        throw new Error(`expected ${url} to be refused`);
      } catch (err) {
        expect(err).toBeInstanceOf(RunConfigError);
        expect((err as RunConfigError).issues[0]?.path).toBe('remoteUrl');
      }
    }
  });

  it('refuses a DNS name that resolves to a private address unless allowPrivateEndpoint', async () => {
    const dns = fakeDns({ 'mcp.corp.example': '10.20.30.40' });
    const cfg = validateRunConfig(base('https://mcp.corp.example/mcp'));
    const err = await startProxy(cfg, { dnsLookup: dns }).catch((e) => e);
    expect(err).toBeInstanceOf(RemoteUrlRefusedError);
    expect(err.code).toBe('ERR_BASTION_REMOTE_URL_REFUSED');
    expect(err.address).toBe('10.20.30.40');
    expect(err.message).toMatch(/private-range/);

    const allowed = await startProxy(
      validateRunConfig(base('https://mcp.corp.example/mcp', { allowPrivateEndpoint: true })),
      {
        dnsLookup: dns,
      },
    );
    await allowed.close({ graceMs: 0 });
  });

  it('refuses a DNS name that resolves to the metadata address even with allowPrivateEndpoint', async () => {
    const dns = fakeDns({ 'metadata.evil.example': '169.254.169.254' });
    const cfg = validateRunConfig(base('https://metadata.evil.example/mcp', { allowPrivateEndpoint: true }));
    const err = await startProxy(cfg, { dnsLookup: dns }).catch((e) => e);
    expect(err).toBeInstanceOf(RemoteUrlRefusedError);
    expect(err.reason).toMatch(/cloud metadata/);
  });

  it('reports a name that does not resolve with its own code', async () => {
    const err = await startProxy(validateRunConfig(base('https://nowhere.example/mcp')), {
      dnsLookup: fakeDns({}),
    }).catch((e) => e);
    expect(err).toBeInstanceOf(RemoteUrlUnresolvableError);
    expect(err.code).toBe('ERR_BASTION_REMOTE_URL_UNRESOLVABLE');
    expect(err.dnsCode).toBe('ENOTFOUND');
  });
});

describe('remote URL checks on every connection', () => {
  it('refuses the connection when the name re-resolves to a private address (DNS rebinding)', async () => {
    const port = new URL(upstream.url).port;
    const dns = fakeDns({ 'rebind.localhost': ['127.0.0.1', '10.0.0.7'] });
    const proxy = await startProxy(
      validateRunConfig(base(`http://rebind.localhost:${port}/mcp`, { insecureLoopback: true })),
      { dnsLookup: dns, logger },
    );
    try {
      upstream.clearRequests();
      const res = await rpc(proxy.url, 'tools/list');
      expect(res.status).toBe(502);
      expect(res.body.error.code).toBe(-32603);
      expect(res.body.id).toBe(7);
      expect(upstream.requests).toHaveLength(0);
      expect(dns.calls.length).toBeGreaterThanOrEqual(2);
    } finally {
      await proxy.close({ graceMs: 0 });
    }
  });
});

describe('upstream redirects', () => {
  const start = (path: string) =>
    startProxy(
      validateRunConfig(base(`http://127.0.0.1:${redirectorPort}${path}`, { insecureLoopback: true })),
      { logger },
    );

  it('refuses a redirect to 169.254.169.254 with 502', async () => {
    const proxy = await start('/metadata');
    try {
      warnings.length = 0;
      const res = await rpc(proxy.url, 'tools/list');
      expect(res.status).toBe(502);
      expect(res.body.id).toBe(7);
      expect(JSON.stringify(res.body)).not.toContain('169.254');
      expect(warnings.some((w) => /redirect/.test(String(w.msg)))).toBe(true);
    } finally {
      await proxy.close({ graceMs: 0 });
    }
  });

  it('refuses a redirect to another origin (the upstream credential would go with it)', async () => {
    const proxy = await start('/moved');
    try {
      upstream.clearRequests();
      const res = await rpc(proxy.url, 'tools/list');
      expect(res.status).toBe(502);
      expect(upstream.requests).toHaveLength(0);
    } finally {
      await proxy.close({ graceMs: 0 });
    }
  });

  it('follows a same-origin 307 to an allowed address', async () => {
    const proxy = await start('/same');
    try {
      const res = await rpc(proxy.url, 'tools/list');
      expect(res.status).toBe(200);
      expect(res.body.result).toEqual({ tools: [] });
    } finally {
      await proxy.close({ graceMs: 0 });
    }
  });
});
