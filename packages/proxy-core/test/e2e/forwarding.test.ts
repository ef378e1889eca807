import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Middleware, type ProxyServer, startProxyServer } from '../../src/index.js';
import { post, postNode, startRawServer } from '../helpers.js';

interface Seen {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}
const seen: Seen[] = [];
let raw: Awaited<ReturnType<typeof startRawServer>>;
let proxy: ProxyServer;

const credential: Middleware = {
  name: 'upstream-credential',
  async handle(ex, next) {
    ex.upstreamHeaders.authorization = 'Bearer upstream-token';
    ex.upstreamHeaders['content-length'] = '1'; // ignored: the forwarder owns framing headers
    return next();
  },
};
const rename: Middleware = {
  name: 'rename',
  async handle(ex, next) {
    const rpc = ex.rpc;
    if (rpc && 'method' in rpc && rpc.method === 'tools/call') {
      ex.replaceRpc({ ...rpc, params: { ...rpc.params, name: 'real_name' } } as typeof rpc);
    }
    return next();
  },
};

beforeAll(async () => {
  raw = await startRawServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ url: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, {
        'content-type': 'application/json',
        'set-cookie': 'upstream=1',
        'mcp-session-id': 'sess-1',
        'x-upstream': 'yes',
        connection: 'keep-alive, x-upstream-hop',
        'x-upstream-hop': 'drop me',
      });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: {} }));
    });
  });
  proxy = await startProxyServer({
    upstreamUrl: `${raw.origin}/base/mcp?key=abc`,
    middlewares: [credential, rename],
  });
});

afterAll(async () => {
  await proxy.close({ graceMs: 50 });
  await raw.close();
});

describe('forwarder request mapping', () => {
  it('maps path and query: /mcp?x=1 goes to <remote path>?<remote query>&x=1', async () => {
    await post(`${proxy.url}?x=1&y=2`, { jsonrpc: '2.0', id: 1, method: 'ping' });
    expect(seen.at(-1)?.url).toBe('/base/mcp?key=abc&x=1&y=2');
    await post(proxy.url, { jsonrpc: '2.0', id: 1, method: 'ping' });
    expect(seen.at(-1)?.url).toBe('/base/mcp?key=abc');
  });

  it('forwards MCP and trace headers, never the client credentials or hop-by-hop headers', async () => {
    const status = await postNode(proxy.url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }), {
      accept: 'application/json, text/event-stream',
      authorization: 'Bearer client-secret-token',
      cookie: 'session=abc',
      'proxy-authorization': 'Basic Zm9vOmJhcg==',
      connection: 'keep-alive, x-hop-custom',
      'x-hop-custom': '1',
      'keep-alive': 'timeout=5',
      te: 'trailers',
      'mcp-session-id': 's-1',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'ping',
      'mcp-name': 'thing',
      'mcp-param-region': 'eu',
      'last-event-id': '42',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'a=b',
      baggage: 'k=v',
      'user-agent': 'test-agent/1',
      'x-forwarded-for': '10.0.0.1',
      'x-random': 'not allow-listed',
    });
    expect(status).toBe(200);
    const h = seen.at(-1)!.headers;
    expect(h.authorization).toBe('Bearer upstream-token');
    expect(h.cookie).toBeUndefined();
    expect(h['proxy-authorization']).toBeUndefined();
    expect(h['x-hop-custom']).toBeUndefined();
    expect(h['keep-alive']).toBeUndefined();
    expect(h.te).toBeUndefined();
    expect(h['x-random']).toBeUndefined();
    expect(h.host).toBe(new URL(raw.origin).host);
    expect(h['x-forwarded-for']).toBe('10.0.0.1, 127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-forwarded-host']).toBe(new URL(proxy.origin).host);
    expect(h.via).toBe(`1.1 ${proxy.handler.options.via}`);
    for (const [k, v] of Object.entries({
      'mcp-session-id': 's-1',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'ping',
      'mcp-name': 'thing',
      'mcp-param-region': 'eu',
      'last-event-id': '42',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'a=b',
      baggage: 'k=v',
      'user-agent': 'test-agent/1',
      accept: 'application/json, text/event-stream',
      'content-type': 'application/json',
    })) {
      expect([k, h[k]]).toEqual([k, v]);
    }
    expect(h['content-length']).toBe(String(Buffer.byteLength(seen.at(-1)!.body)));
  });

  it('sends the raw body byte for byte, or the re-serialised message when a middleware replaced it', async () => {
    const rawBody = '{ "jsonrpc":"2.0",  "id":7, "method":"ping" }';
    await post(proxy.url, rawBody);
    expect(seen.at(-1)?.body).toBe(rawBody);
    await post(proxy.url, {
      jsonrpc: '2.0',
      id: 8,
      method: 'tools/call',
      params: { name: 'alias', arguments: {} },
    });
    expect(JSON.parse(seen.at(-1)!.body)).toEqual({
      jsonrpc: '2.0',
      id: 8,
      method: 'tools/call',
      params: { name: 'real_name', arguments: {} },
    });
  });

  it('relays upstream response headers except cookies and hop-by-hop ones', async () => {
    const res = await post(proxy.url, { jsonrpc: '2.0', id: 1, method: 'ping' });
    expect(res.headers['mcp-session-id']).toBe('sess-1');
    expect(res.headers['x-upstream']).toBe('yes');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.headers['x-upstream-hop']).toBeUndefined();
    expect(typeof res.headers['x-request-id']).toBe('string');
  });
});
