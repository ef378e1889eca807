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

describe('upstream error answers (every error body is JSON)', () => {
  type Case = { status: number; headers?: Record<string, string>; body?: string };
  let answer: Case = { status: 500 };
  let upstreamClosed: Promise<void> = Promise.resolve();
  async function upstream() {
    const raw = await startRawServer((req, res) => {
      req.resume();
      const { status, headers = {}, body } = answer;
      upstreamClosed = new Promise<void>((resolve) => res.once('close', () => resolve()));
      res.writeHead(status, headers);
      if (body === 'stall')
        res.write('x'.repeat(100 * 1024)); // more than is ever read, never ended
      else res.end(body);
    });
    cleanups.push(raw.close);
    return raw;
  }

  it('replaces a 5xx text/plain body with 502 and a JSON-RPC error echoing the id, keeping other headers', async () => {
    const raw = await upstream();
    const proxy = await proxyTo(raw.url);
    answer = {
      status: 500,
      headers: { 'content-type': 'text/plain', 'mcp-session-id': 's-1', etag: '"e"', 'retry-after': '3' },
      body: 'Traceback (most recent call last): secret stack',
    };
    const res = await post(proxy.url, call(31));
    expect(res.status).toBe(502);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['mcp-session-id']).toBe('s-1');
    expect(res.headers['retry-after']).toBe('3');
    expect(res.headers.etag).toBeUndefined();
    expect(res.json()).toEqual({
      jsonrpc: '2.0',
      id: 31,
      error: { code: -32603, message: 'Upstream error', data: { upstreamStatus: 500 } },
    });
    expect(res.text).not.toContain('Traceback');

    answer = { status: 503, headers: { 'content-type': 'text/html' }, body: '<h1>Service Unavailable</h1>' };
    const html = await post(proxy.url, call('h'));
    expect(html.status).toBe(502);
    expect(html.json()).toMatchObject({ id: 'h', error: { data: { upstreamStatus: 503 } } });
  });

  it('keeps the status of a 4xx (a 404 for an expired session stays 404), with a JSON body', async () => {
    const raw = await upstream();
    const proxy = await proxyTo(raw.url);
    answer = { status: 404, headers: { 'content-type': 'text/plain' }, body: 'Session not found' };
    const gone = await post(proxy.url, call(4), { 'mcp-session-id': 'expired' });
    expect(gone.status).toBe(404);
    expect(gone.json()).toEqual({
      jsonrpc: '2.0',
      id: 4,
      error: { code: -32603, message: 'Upstream error', data: { upstreamStatus: 404 } },
    });

    answer = { status: 405, headers: { allow: 'POST' } }; // no body, no content-type
    const get = await request(proxy.url, { method: 'GET', headers: { accept: 'text/event-stream' } });
    expect(get.statusCode).toBe(405);
    expect(get.headers.allow).toBe('POST');
    expect(await get.body.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32603, message: 'Upstream error', data: { upstreamStatus: 405 } },
    });

    for (const status of [406, 415, 429]) {
      answer = { status, headers: { 'content-type': 'text/plain' }, body: 'no' };
      const r = await post(proxy.url, call(status));
      expect([r.status, r.json()]).toEqual([
        status,
        {
          jsonrpc: '2.0',
          id: status,
          error: { code: -32603, message: 'Upstream error', data: { upstreamStatus: status } },
        },
      ]);
    }
  });

  it('passes authentication challenges byte for byte: 401 always, 403 with WWW-Authenticate', async () => {
    const raw = await upstream();
    const proxy = await proxyTo(raw.url);
    answer = {
      status: 401,
      headers: { 'content-type': 'text/plain', 'www-authenticate': 'Bearer resource_metadata="https://r/x"' },
      body: 'Unauthorized',
    };
    const unauthorized = await post(proxy.url, call(1));
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers['content-type']).toBe('text/plain');
    expect(unauthorized.headers['www-authenticate']).toBe('Bearer resource_metadata="https://r/x"');
    expect(unauthorized.text).toBe('Unauthorized');

    answer = { status: 401, headers: { 'content-type': 'text/html' }, body: '<p>login</p>' };
    const bare = await post(proxy.url, call(1));
    expect([bare.status, bare.text]).toEqual([401, '<p>login</p>']);

    answer = {
      status: 403,
      headers: {
        'content-type': 'text/plain',
        'www-authenticate': 'Bearer error="insufficient_scope", scope="a b"',
      },
      body: 'Forbidden',
    };
    const scope = await post(proxy.url, call(1));
    expect([scope.status, scope.headers['www-authenticate'], scope.text]).toEqual([
      403,
      'Bearer error="insufficient_scope", scope="a b"',
      'Forbidden',
    ]);

    answer = { status: 403, headers: { 'content-type': 'text/plain' }, body: 'Forbidden' };
    const plain = await post(proxy.url, call(2));
    expect(plain.status).toBe(403);
    expect(plain.json()).toMatchObject({
      id: 2,
      error: { message: 'Upstream error', data: { upstreamStatus: 403 } },
    });
  });

  it('passes JSON error bodies unchanged, JSON-RPC or not', async () => {
    const raw = await upstream();
    const proxy = await proxyTo(raw.url);
    answer = {
      status: 500,
      headers: { 'content-type': 'application/json' },
      body: '{"error":"database down","code":17}',
    };
    const plainJson = await post(proxy.url, call(1));
    expect([plainJson.status, plainJson.text]).toEqual([500, '{"error":"database down","code":17}']);

    const rpcBody = '{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}';
    answer = { status: 404, headers: { 'content-type': 'application/json; charset=utf-8' }, body: rpcBody };
    const session = await post(proxy.url, call(1));
    expect([session.status, session.text]).toEqual([404, rpcBody]);
  });

  it('answers at once without reading a large or endless error body, and cuts that body', async () => {
    const raw = await upstream();
    const proxy = await proxyTo(raw.url);
    answer = { status: 502, headers: { 'content-type': 'text/html' }, body: 'stall' };
    const res = await post(proxy.url, call(8));
    expect(res.status).toBe(502);
    expect(res.json()).toMatchObject({ id: 8, error: { data: { upstreamStatus: 502 } } });
    await upstreamClosed; // the discarded body went over the read limit: the upstream response is cut
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
