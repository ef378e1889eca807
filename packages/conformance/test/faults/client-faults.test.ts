/**
 * Client misbehaviour: disconnecting mid-stream (the upstream request is aborted too), slowloris header
 * trickling, and 10 000 tiny requests on one keep-alive connection.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ServerResponse } from 'node:http';
import { Agent, Client, request } from 'undici';
import {
  answerJson,
  MCP_HEADERS,
  post,
  type RawServer,
  readText,
  rpc,
  startRawServer,
} from '../helpers/http.js';
import { heapUsed, leakedSince, resources } from '../helpers/leaks.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';

const until = async (pred: () => boolean, withinMs = 5_000) => {
  const deadline = Date.now() + withinMs;
  while (!pred() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return pred();
};

describe.each(['passthrough', 'full'] as const)('client disconnects mid-stream (%s)', (mode) => {
  let upstream: RawServer;
  let proxy: TestProxy;
  const open = new Set<ServerResponse>();
  let upstreamClosed = 0;

  beforeAll(async () => {
    // An upstream SSE answer that sends one event and then stays open until the client goes away.
    upstream = await startRawServer((req, res) => {
      void readText(req).then((body) => {
        const { id, method } = JSON.parse(body) as { id: number; method: string };
        if (method === 'ping') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ jsonrpc: '2.0', id, result: {} }));
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.write(
          `event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: id, progress: 1 } })}\n\n`,
        );
        open.add(res);
        res.once('close', () => {
          open.delete(res);
          upstreamClosed++;
        });
      });
    });
    proxy = await startTestProxy(upstream.url, { chain: mode === 'full' ? 'full' : 'none' });
  });
  afterAll(async () => {
    await proxy.close();
    await upstream.close();
  });

  it('aborts the upstream request, keeps serving others, leaks nothing', async () => {
    const baseline = resources();
    const streams = 20;
    const controllers: AbortController[] = [];
    const agent = new Agent();
    for (let i = 0; i < streams; i++) {
      const ac = new AbortController();
      controllers.push(ac);
      const res = await request(proxy.url, {
        method: 'POST',
        headers: MCP_HEADERS,
        body: rpc('tools/call', { name: 'slow', arguments: {} }, i),
        dispatcher: agent,
        signal: ac.signal,
      });
      expect(res.statusCode).toBe(200);
      // Read the first event so the stream is really flowing end to end.
      const first = await new Promise<string>((resolve) =>
        res.body.once('data', (c: Buffer) => resolve(c.toString())),
      );
      expect(first).toContain('notifications/progress');
      res.body.on('error', () => {});
    }
    expect(await until(() => open.size === streams)).toBe(true);
    for (const ac of controllers) ac.abort();
    // Every upstream response was closed because the proxy aborted its upstream request.
    expect(await until(() => open.size === 0 && upstreamClosed >= streams)).toBe(true);
    expect(proxy.proxy.handler.inFlight).toBe(0);
    const other = await post(proxy.url, rpc('ping', {}, 'other'), { dispatcher: agent });
    expect(other.json).toEqual({ jsonrpc: '2.0', id: 'other', result: {} });
    await agent.close();
    expect(await leakedSince(baseline)).toEqual({});
  });
});

describe('slowloris and keep-alive floods', () => {
  let upstream: RawServer;
  let proxy: TestProxy;

  beforeAll(async () => {
    upstream = await startRawServer((req, res) => {
      void answerJson(req, res, {});
    });
    proxy = await startTestProxy(upstream.url);
  });
  afterAll(async () => {
    await proxy.close();
    await upstream.close();
  });

  it('keeps serving other clients while 100 sockets trickle headers, and drops them on close', async () => {
    const sockets: Socket[] = [];
    for (let i = 0; i < 100; i++) {
      const s = connect(proxy.proxy.port, '127.0.0.1');
      s.on('error', () => {});
      s.write(`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow-${i}: a`);
      sockets.push(s);
    }
    await until(() => sockets.every((s) => !s.connecting));
    for (const s of sockets) s.write('b');
    const agent = new Agent();
    for (let i = 0; i < 5; i++) {
      const a = await post(proxy.url, rpc('ping', {}, i), { dispatcher: agent });
      expect(a.status).toBe(200);
      expect(a.json).toEqual({ jsonrpc: '2.0', id: i, result: {} });
    }
    await agent.close();
    // proxy-core's server.headersTimeoutMs / requestTimeoutMs defaults are what bound a slowloris.
    expect(proxy.proxy.server.headersTimeout).toBe(10_000);
    expect(proxy.proxy.server.requestTimeout).toBe(30_000);
    for (const s of sockets) s.destroy();
    expect(await until(() => sockets.every((s) => s.destroyed))).toBe(true);
  });

  it('answers 408 and closes sockets that never finish their headers once headersTimeout passes, even while they keep trickling', async () => {
    // Small values so the file stays fast; every wait below is for sockets closing, never a duration.
    const quick = await startTestProxy(upstream.url, {
      server: { headersTimeoutMs: 500, requestTimeoutMs: 1_000, connectionsCheckingIntervalMs: 50 },
    });
    const baseline = resources();
    try {
      const slow = Array.from({ length: 20 }, (_, i) => {
        const s = connect(quick.proxy.port, '127.0.0.1');
        let received = '';
        s.setEncoding('utf8');
        s.on('data', (d: string) => {
          received += d;
        });
        s.on('error', () => {});
        s.write(`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow-${i}: a`);
        return { socket: s, received: () => received };
      });
      // Keep every socket busy: a byte of header every 50 ms does not reset the headers deadline.
      const trickle = setInterval(() => {
        for (const { socket } of slow) if (!socket.destroyed && socket.writable) socket.write('b');
      }, 50);
      try {
        // Others are served meanwhile (a fresh connection, whole request at once).
        const agent = new Agent();
        const a = await post(quick.url, rpc('ping', {}, 'other'), { dispatcher: agent });
        expect(a.status).toBe(200);
        expect(a.json).toEqual({ jsonrpc: '2.0', id: 'other', result: {} });
        await agent.close();
        expect(await until(() => slow.every(({ socket }) => socket.destroyed), 10_000)).toBe(true);
      } finally {
        clearInterval(trickle);
      }
      for (const { received } of slow) expect(received()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    } finally {
      await quick.close();
    }
    expect(await leakedSince(baseline)).toEqual({});
  });

  it('serves 10 000 tiny requests on one keep-alive connection with bounded memory and no leak', async () => {
    const baseline = resources();
    const connectionsBefore = upstream.connections;
    const client = new Client(proxy.proxy.origin, { pipelining: 1, keepAliveTimeout: 30_000 });
    let clientConnections = 0;
    client.on('connect', () => clientConnections++);
    const body = rpc('ping', {}, 1);
    const send = async () => {
      const res = await client.request({ path: '/mcp', method: 'POST', headers: MCP_HEADERS, body });
      const text = await res.body.text();
      return res.statusCode === 200 && text === '{"jsonrpc":"2.0","id":1,"result":{}}';
    };
    for (let i = 0; i < 500; i++) expect(await send()).toBe(true); // warm-up
    const heapBefore = heapUsed();
    let ok = 0;
    for (let i = 0; i < 10_000; i++) if (await send()) ok++;
    expect(ok).toBe(10_000);
    expect(clientConnections).toBe(1);
    // The proxy reused its upstream connection too (a handful at most, never one per request).
    expect(upstream.connections - connectionsBefore).toBeLessThan(10);
    expect(heapUsed() - heapBefore).toBeLessThan(8 * 1024 * 1024);
    await client.close();
    expect(await leakedSince(baseline)).toEqual({});
  }, 60_000);
});
