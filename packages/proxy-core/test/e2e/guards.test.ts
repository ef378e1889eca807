import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'undici';
import { type Middleware, type ProxyServer, startProxyServer } from '../../src/index.js';
import { initializeBody, post, startRawServer } from '../helpers.js';

let upstreamHits = 0;
let raw: Awaited<ReturnType<typeof startRawServer>>;
let proxy: ProxyServer;
let ready = true;

const withRoute: Middleware = {
  name: 'metadata',
  handle: (_ex, next) => next(),
  routes: [
    {
      method: 'GET',
      path: '/.well-known/oauth-protected-resource*',
      handle: (req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ path: req.url }));
      },
    },
  ],
  readiness: () => ({ ready, detail: ready ? 'jwks loaded' : 'jwks not fetched yet' }),
};

beforeAll(async () => {
  raw = await startRawServer((req, res) => {
    upstreamHits++;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: {} }));
    });
  });
  proxy = await startProxyServer({
    upstreamUrl: raw.url,
    limits: { maxBodyBytes: 1024 },
    middlewares: [withRoute],
  });
});

afterAll(async () => {
  await proxy.close({ graceMs: 50 });
  await raw.close();
});

/** Send raw bytes on a socket and read the answer's status line and body. */
function rawHttp(port: number, payload: string | Buffer[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let data = '';
    sock.on('data', (c) => {
      data += c.toString();
    });
    sock.on('error', () => resolve(data));
    sock.on('close', () => resolve(data));
    sock.on('connect', () => {
      if (typeof payload === 'string') sock.write(payload);
      else for (const p of payload) sock.write(p);
    });
    sock.setTimeout(5000, () => reject(new Error('socket timeout')));
  });
}

describe('request guards', () => {
  it('rejects a declared body over the limit with 413 without contacting the upstream', async () => {
    const before = upstreamHits;
    const res = await post(proxy.url, {
      jsonrpc: '2.0',
      id: 1,
      method: 'x',
      params: { pad: 'a'.repeat(2000) },
    });
    expect(res.status).toBe(413);
    expect(res.json()).toMatchObject({ error: { code: -32600 } });
    expect(upstreamHits).toBe(before);
  });

  it('measures chunked bodies while they stream in (no content-length to trust)', async () => {
    const before = upstreamHits;
    const chunkOf = (s: string) => `${s.length.toString(16)}\r\n${s}\r\n`;
    const answer = await rawHttp(proxy.port, [
      Buffer.from(
        'POST /mcp HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n',
      ),
      Buffer.from(chunkOf(`{"jsonrpc":"2.0","id":1,"method":"x","params":{"pad":"${'b'.repeat(600)}`)),
      Buffer.from(chunkOf(`${'c'.repeat(600)}"}}`)),
      Buffer.from('0\r\n\r\n'),
    ]);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(upstreamHits).toBe(before);
  });

  it('rejects JSON-RPC batches with 400 and -32600', async () => {
    const res = await post(proxy.url, [initializeBody(1), initializeBody(2)]);
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32600, message: 'Batch requests are not supported' },
    });
  });

  it('rejects malformed JSON with 400 and -32700', async () => {
    const res = await post(proxy.url, '{"jsonrpc": "2.0", "id": 1,');
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ id: null, error: { code: -32700 } });
  });

  it('rejects JSON that is not JSON-RPC with 400 and -32600, echoing a usable id', async () => {
    const noVersion = await post(proxy.url, { id: 4, method: 'tools/list' });
    expect(noVersion.status).toBe(400);
    expect(noVersion.json()).toMatchObject({ id: 4, error: { code: -32600 } });
    const scalar = await post(proxy.url, '42');
    expect(scalar.status).toBe(400);
    const both = await post(proxy.url, {
      jsonrpc: '2.0',
      id: 1,
      result: {},
      error: { code: 1, message: 'x' },
    });
    expect(both.status).toBe(400);
  });

  it('refuses a foreign Origin and accepts loopback and absent Origins on a loopback listener', async () => {
    const evil = await post(proxy.url, initializeBody(), { origin: 'https://evil.example' });
    expect(evil.status).toBe(403);
    expect(evil.json()).toMatchObject({ error: { code: -32600, message: 'Origin not allowed' } });
    const local = await post(proxy.url, initializeBody(), { origin: 'http://localhost:3000' });
    expect(local.status).toBe(200);
    const none = await post(proxy.url, initializeBody());
    expect(none.status).toBe(200);
  });

  it('refuses a non-loopback Host on a loopback listener (DNS rebinding)', async () => {
    const res = await post(proxy.url, initializeBody(), { host: 'attacker.example' });
    expect(res.status).toBe(403);
    expect(res.json()).toMatchObject({ error: { message: 'Host not allowed' } });
  });

  it('honours explicit allow-lists', async () => {
    const strict = await startProxyServer({
      upstreamUrl: raw.url,
      allowedOrigins: ['https://app.example'],
      allowedHosts: ['mcp.internal'],
    });
    try {
      expect(
        (await post(strict.url, initializeBody(), { host: 'mcp.internal', origin: 'https://app.example' }))
          .status,
      ).toBe(200);
      expect(
        (await post(strict.url, initializeBody(), { host: 'mcp.internal', origin: 'http://localhost' }))
          .status,
      ).toBe(403);
      expect((await post(strict.url, initializeBody())).status).toBe(403);
    } finally {
      await strict.close({ graceMs: 50 });
    }
  });

  it('answers 405 with Allow for other methods and 404 for other paths', async () => {
    const put = await request(proxy.url, { method: 'PUT', body: '{}' });
    expect(put.statusCode).toBe(405);
    expect(put.headers.allow).toBe('GET, POST, DELETE');
    await put.body.dump();
    const other = await request(`${proxy.origin}/nope`, { method: 'POST', body: '{}' });
    expect(other.statusCode).toBe(404);
    await other.body.dump();
  });

  it('detects a forwarding loop through Via', async () => {
    const res = await post(proxy.url, initializeBody(), { via: `1.1 ${proxy.handler.options.via}` });
    expect(res.status).toBe(508);
  });
});

describe('operational endpoints and routes', () => {
  it('serves /health and /ready with the middlewares readiness', async () => {
    const health = await request(`${proxy.origin}/health`);
    expect(health.statusCode).toBe(200);
    expect(await health.body.json()).toEqual({ status: 'ok' });
    const ok = await request(`${proxy.origin}/ready`);
    expect(ok.statusCode).toBe(200);
    expect(await ok.body.json()).toEqual({
      status: 'ready',
      checks: { metadata: { ready: true, detail: 'jwks loaded' } },
    });
    ready = false;
    const notReady = await request(`${proxy.origin}/ready`);
    ready = true;
    expect(notReady.statusCode).toBe(503);
    expect(await notReady.body.json()).toMatchObject({ status: 'not_ready' });
  });

  it('serves middleware routes before the chain and the guards', async () => {
    const res = await request(`${proxy.origin}/.well-known/oauth-protected-resource/mcp`, {
      headers: { origin: 'https://elsewhere.example' },
    });
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toEqual({ path: '/.well-known/oauth-protected-resource/mcp' });
  });

  it('echoes a valid x-request-id and generates one otherwise', async () => {
    const given = await post(proxy.url, initializeBody(), { 'x-request-id': 'req-123' });
    expect(given.headers['x-request-id']).toBe('req-123');
    const invalid = await post(proxy.url, initializeBody(), { 'x-request-id': 'bad id with spaces' });
    expect(invalid.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
