import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'undici';
import { type Middleware, ProxyHttpError, type ProxyServer, startProxyServer } from '../../src/index.js';
import { initializeBody, startRawServer } from '../helpers.js';

let upstreamHits = 0;
let raw: Awaited<ReturnType<typeof startRawServer>>;
let proxy: ProxyServer;

// Stands in for an auth layer: every chained request without a token is refused with 401.
const requireToken: Middleware = {
  name: 'auth',
  handle: (ex, next) => {
    if (!ex.request.headers.authorization) {
      throw new ProxyHttpError({
        status: 401,
        rpcCode: -32001,
        code: 'ERR_TEST_UNAUTHORIZED',
        publicMessage: 'Unauthorized',
        headers: { 'www-authenticate': 'Bearer realm="test"' },
        oauthError: { error: 'invalid_token' },
      });
    }
    return next();
  },
};

beforeAll(async () => {
  raw = await startRawServer((req, res) => {
    upstreamHits++;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 's-1' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: {} }));
    });
  });
  proxy = await startProxyServer({
    upstreamUrl: raw.url,
    middlewares: [requireToken],
    allowedOrigins: ['https://app.example'],
  });
});

afterAll(async () => {
  await proxy.close({ graceMs: 50 });
  await raw.close();
});

describe('CORS', () => {
  it('answers a preflight from an allowed origin without running the chain or contacting the upstream', async () => {
    const before = upstreamHits;
    const res = await request(proxy.url, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, mcp-session-id',
      },
    });
    await res.body.dump();
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(String(res.headers['access-control-allow-headers'])).toContain('authorization');
    expect(String(res.headers['access-control-allow-headers'])).toContain('mcp-session-id');
    expect(String(res.headers['access-control-allow-methods'])).toContain('DELETE');
    expect(upstreamHits).toBe(before);
  });

  it('refuses a preflight from an origin that is not allowed', async () => {
    const res = await request(proxy.url, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    await res.body.dump();
    expect(res.statusCode).toBe(403);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('lets the browser read a 401 challenge and the session id of real answers', async () => {
    const denied = await request(proxy.url, {
      method: 'POST',
      headers: { origin: 'https://app.example', 'content-type': 'application/json' },
      body: JSON.stringify(initializeBody()),
    });
    await denied.body.dump();
    expect(denied.statusCode).toBe(401);
    expect(denied.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(String(denied.headers['access-control-expose-headers'])).toContain('www-authenticate');

    const ok = await request(proxy.url, {
      method: 'POST',
      headers: {
        origin: 'https://app.example',
        'content-type': 'application/json',
        authorization: 'Bearer t',
      },
      body: JSON.stringify(initializeBody()),
    });
    await ok.body.dump();
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(String(ok.headers['access-control-expose-headers'])).toContain('mcp-session-id');
  });

  it('answers OPTIONS without an Origin with the allowed methods', async () => {
    const res = await request(proxy.url, { method: 'OPTIONS' });
    await res.body.dump();
    expect(res.statusCode).toBe(204);
    expect(res.headers.allow).toContain('POST');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});
