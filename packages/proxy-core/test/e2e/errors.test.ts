import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from '@jest/globals';
import { startMcpUpstream } from '@bastion-mcp/testkit';
import {
  type Middleware,
  mapResponseMessages,
  ProxyCoreErrorCode,
  ProxyHttpError,
  type ProxyServer,
  startProxyServer,
  channels,
  type UpstreamFinishMessage,
} from '../../src/index.js';
import { request } from 'undici';
import { post, startRawServer } from '../helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function proxyTo(upstreamUrl: string, extra: Partial<Parameters<typeof startProxyServer>[0]> = {}) {
  const proxy: ProxyServer = await startProxyServer({ upstreamUrl, ...extra });
  cleanups.push(() => proxy.close({ graceMs: 50 }));
  return proxy;
}

const call = (id: number | string) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'echo', arguments: { text: 'x' } },
});

describe('upstream failures (PRODUCT.md §2.2)', () => {
  it('answers 502 with a JSON-RPC error echoing the id when the upstream refuses connections', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const { port } = srv.address() as AddressInfo;
    await new Promise<void>((r) => srv.close(() => r()));
    const finishes: UpstreamFinishMessage[] = [];
    const onFinish = (m: unknown) => finishes.push(m as UpstreamFinishMessage);
    channels.upstreamFinish.subscribe(onFinish);
    try {
      const proxy = await proxyTo(`http://127.0.0.1:${port}/mcp`);
      const res = await post(proxy.url, call(41));
      expect(res.status).toBe(502);
      expect(res.json()).toEqual({
        jsonrpc: '2.0',
        id: 41,
        error: { code: -32603, message: 'Upstream MCP server unreachable' },
      });
      expect(res.text).not.toMatch(/ECONNREFUSED/);
      expect(finishes.at(-1)).toMatchObject({
        errorCode: ProxyCoreErrorCode.UpstreamUnreachable,
        method: 'POST',
      });
    } finally {
      channels.upstreamFinish.unsubscribe(onFinish);
    }
  });

  it('answers 502 when the upstream resets the connection', async () => {
    const raw = await startRawServer((req) => req.socket.destroy());
    cleanups.push(raw.close);
    const proxy = await proxyTo(raw.url);
    const res = await post(proxy.url, call('abc'));
    expect(res.status).toBe(502);
    expect(res.json()).toMatchObject({ id: 'abc', error: { code: -32603 } });
  });

  it('answers 502 when the upstream sends an invalid HTTP response', async () => {
    const raw = await startRawServer((req) => {
      req.socket.end('HTTP/1.1 abc\r\nthis is not http\r\n\r\n');
    });
    cleanups.push(raw.close);
    const proxy = await proxyTo(raw.url);
    const res = await post(proxy.url, call(2));
    expect(res.status).toBe(502);
    expect(res.json()).toMatchObject({
      id: 2,
      error: { message: 'Invalid response from upstream MCP server' },
    });
  });

  it('answers 504 when the upstream does not send headers in time', async () => {
    const upstream = await startMcpUpstream();
    cleanups.push(() => upstream.close());
    upstream.setFault('stall-headers');
    const proxy = await proxyTo(upstream.url, { upstream: { headersTimeoutMs: 200 } });
    const res = await post(proxy.url, call(9));
    upstream.setFault(null);
    expect(res.status).toBe(504);
    expect(res.json()).toEqual({
      jsonrpc: '2.0',
      id: 9,
      error: { code: -32603, message: 'Upstream MCP server timed out' },
    });
  });

  it('passes an upstream 401 and its WWW-Authenticate through unchanged', async () => {
    const upstream = await startMcpUpstream({ requireAuth: () => false });
    cleanups.push(() => upstream.close());
    const direct = await post(upstream.url, call(1));
    const proxy = await proxyTo(upstream.url);
    const res = await post(proxy.url, call(1));
    expect(res.status).toBe(401);
    expect(direct.headers['www-authenticate']).toBeDefined();
    expect(res.headers['www-authenticate']).toBe(direct.headers['www-authenticate']);
    expect(res.text).toBe(direct.text);
  });

  it('does not follow redirects by default, and follows a 307 the checkRedirect hook accepts', async () => {
    const raw = await startRawServer((req, res) => {
      if (req.url?.startsWith('/moved')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: 5, result: { via: req.url } }));
        return;
      }
      res.writeHead(307, { location: '/moved/mcp' });
      res.end();
    });
    cleanups.push(raw.close);
    const plain = await proxyTo(raw.url);
    const refused = await post(plain.url, call(5));
    expect(refused.status).toBe(502);
    expect(refused.json()).toMatchObject({ id: 5, error: { code: -32603 } });

    const seen: string[] = [];
    const following = await proxyTo(raw.url, {
      upstream: {
        checkRedirect: (url) => {
          seen.push(url.href);
          return url.origin === raw.origin;
        },
      },
    });
    const res = await post(following.url, call(5));
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ jsonrpc: '2.0', id: 5, result: { via: '/moved/mcp' } });
    expect(seen).toEqual([`${raw.origin}/moved/mcp`]);
  });

  it('answers 502 when a transforming middleware meets invalid JSON from the upstream', async () => {
    const upstream = await startMcpUpstream();
    cleanups.push(() => upstream.close());
    const mapper: Middleware = {
      name: 'mapper',
      handle: async (_ex, next) => mapResponseMessages(await next(), (m) => m),
    };
    const proxy = await proxyTo(upstream.url, { middlewares: [mapper] });
    upstream.setFault('invalid-json', { count: 1 });
    const res = await post(proxy.url, call(7));
    expect(res.status).toBe(502);
    expect(res.json()).toMatchObject({
      id: 7,
      error: { message: 'Invalid response from upstream MCP server' },
    });
  });
});

describe('errorToResponse through the chain', () => {
  it('maps an unknown middleware error to 500 -32603 without leaking its message', async () => {
    const boom: Middleware = {
      name: 'boom',
      handle: async () => {
        throw new Error('secret database password is hunter2');
      },
    };
    const proxy = await proxyTo('http://127.0.0.1:9/mcp', { middlewares: [boom] });
    const res = await post(proxy.url, call(3));
    expect(res.status).toBe(500);
    expect(res.json()).toEqual({ jsonrpc: '2.0', id: 3, error: { code: -32603, message: 'Internal error' } });
    expect(res.text).not.toContain('hunter2');
  });

  it('maps a ProxyHttpError with oauthError to an OAuth body with its WWW-Authenticate', async () => {
    const auth: Middleware = {
      name: 'auth',
      handle: async () => {
        throw new ProxyHttpError({
          status: 401,
          rpcCode: -32001,
          code: 'ERR_BASTION_AUTH_INVALID_TOKEN',
          publicMessage: 'invalid token',
          headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
          oauthError: { error: 'invalid_token', error_description: 'token expired' },
        });
      },
    };
    const proxy = await proxyTo('http://127.0.0.1:9/mcp', { middlewares: [auth] });
    const res = await post(proxy.url, call(3));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(res.json()).toEqual({ error: 'invalid_token', error_description: 'token expired' });
  });

  it('maps a ProxyHttpError without oauthError to a JSON-RPC error echoing the id', async () => {
    const deny: Middleware = {
      name: 'authz',
      handle: async () => {
        throw new ProxyHttpError({
          status: 403,
          rpcCode: -31001,
          code: 'ERR_BASTION_AUTHZ_DENIED',
          publicMessage: 'Forbidden',
        });
      },
    };
    const proxy = await proxyTo('http://127.0.0.1:9/mcp', { middlewares: [deny] });
    const res = await post(proxy.url, call('q'));
    expect(res.status).toBe(403);
    expect(res.json()).toEqual({ jsonrpc: '2.0', id: 'q', error: { code: -31001, message: 'Forbidden' } });
  });
});

describe('upstream failures after the headers', () => {
  it('cuts the client response (no clean end) when the upstream resets mid-stream', async () => {
    const upstream = await startMcpUpstream();
    cleanups.push(() => upstream.close());
    const proxy = await proxyTo(upstream.url);
    upstream.setFault('reset-mid-stream', { count: 1 });
    const res = await request(proxy.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify(call(1)),
    });
    expect(res.statusCode).toBe(200);
    await expect(res.body.text()).rejects.toThrow();
  });

  it('cuts an SSE stream that stays idle longer than sseIdleTimeoutMs', async () => {
    const upstream = await startMcpUpstream();
    cleanups.push(() => upstream.close());
    const proxy = await proxyTo(upstream.url, { upstream: { sseIdleTimeoutMs: 100 } });
    upstream.setFault('stall-body', { count: 1 });
    const res = await request(proxy.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify(call(1)),
    });
    expect(res.statusCode).toBe(200);
    await expect(res.body.text()).rejects.toThrow();
  });
});
