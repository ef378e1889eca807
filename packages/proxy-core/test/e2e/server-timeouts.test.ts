/**
 * Inbound server timeouts (slowloris): a client that never finishes its headers, or its body, is
 * answered 408 and disconnected; answers themselves (long SSE streams) are not bounded by them.
 * Small timeouts keep the file fast; every wait is for an event (a socket closing), never a duration.
 */
import type { ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'undici';
import { type Middleware, mapResponseMessages, SseParser, startProxyServer } from '../../src/index.js';
import { initializeBody, startRawServer, until } from '../helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

// undici compiles its HTTP parser on its first connection, which can take longer than these small
// timeouts on a loaded machine: warm it up against a plain server first.
beforeAll(async () => {
  const warm = await startRawServer((req, res) => {
    req.resume();
    res.end('ok');
  });
  await (await request(warm.url)).body.text();
  await warm.close();
});

const SMALL = {
  headersTimeoutMs: 300,
  requestTimeoutMs: 500,
  keepAliveTimeoutMs: 1_000,
  connectionsCheckingIntervalMs: 50,
};

/** A raw TCP client: everything it receives, and a promise of its close. */
function rawClient(port: number, first: string) {
  const socket: Socket = connect(port, '127.0.0.1');
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => {
    received += d;
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(first);
  return { socket, closed, received: () => received };
}

describe('server timeout options', () => {
  it('applies the defaults to the node:http server', async () => {
    const proxy = await startProxyServer({ upstreamUrl: 'http://127.0.0.1:1/mcp' });
    cleanups.push(() => proxy.close({ graceMs: 0 }));
    expect(proxy.server.headersTimeout).toBe(10_000);
    expect(proxy.server.requestTimeout).toBe(30_000);
    expect(proxy.server.keepAliveTimeout).toBe(5_000);
  });

  it('rejects invalid values with a TypeError naming the option', async () => {
    const base = { upstreamUrl: 'http://127.0.0.1:1/mcp' };
    await expect(startProxyServer({ ...base, server: { headersTimeoutMs: 0 } })).rejects.toThrow(
      /"server\.headersTimeoutMs"/,
    );
    await expect(startProxyServer({ ...base, server: { requestTimeoutMs: -1 } })).rejects.toThrow(
      /"server\.requestTimeoutMs"/,
    );
    await expect(startProxyServer({ ...base, server: { keepAliveTimeoutMs: 1.5 } })).rejects.toThrow(
      /"server\.keepAliveTimeoutMs"/,
    );
    await expect(
      startProxyServer({ ...base, server: { connectionsCheckingIntervalMs: Number.NaN } }),
    ).rejects.toThrow(/"server\.connectionsCheckingIntervalMs"/);
    await expect(
      startProxyServer({ ...base, server: { headersTimeoutMs: 5_000, requestTimeoutMs: 1_000 } }),
    ).rejects.toThrow(/"server\.headersTimeoutMs" must not exceed "server\.requestTimeoutMs"/);
    await expect(startProxyServer({ ...base, server: 5 as unknown as object })).rejects.toThrow(/"server"/);
    const unbounded = await startProxyServer({ ...base, server: { requestTimeoutMs: 0 } });
    cleanups.push(() => unbounded.close({ graceMs: 0 }));
    expect(unbounded.server.requestTimeout).toBe(0);
  });
});

describe('slowloris', () => {
  it('answers 408 and closes a socket that never finishes its headers, and one that never finishes its body', async () => {
    const raw = await startRawServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":1,"result":{}}');
    });
    cleanups.push(raw.close);
    const proxy = await startProxyServer({ upstreamUrl: raw.url, server: SMALL });
    cleanups.push(() => proxy.close({ graceMs: 0 }));

    const headers = rawClient(proxy.port, 'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a');
    const body = rawClient(
      proxy.port,
      'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"jsonrpc"',
    );
    await Promise.all([headers.closed, body.closed]);
    expect(headers.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(body.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);

    // Other clients are served normally (a whole request in one write).
    const payload = JSON.stringify(initializeBody(1));
    const normal = rawClient(
      proxy.port,
      `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nconnection: close\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\ncontent-length: ${payload.length}\r\n\r\n${payload}`,
    );
    await normal.closed;
    expect(normal.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(normal.received()).toContain('{"jsonrpc":"2.0","id":1,"result":{}}');
  });

  it.each([
    ['GET stream, raw body', 'GET', [] as Middleware[]],
    [
      'POST answer, transformed SSE body',
      'POST',
      [
        { name: 'inspect', handle: async (_ex, next) => mapResponseMessages(await next(), (m) => m) },
      ] as Middleware[],
    ],
  ])('does not cut an SSE answer that outlives requestTimeout (%s)', async (_label, method, middlewares) => {
    let upstream: ServerResponse | undefined;
    const raw = await startRawServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        `data: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { n: 1 } })}\n\n`,
      );
      upstream = res;
    });
    cleanups.push(raw.close);
    const proxy = await startProxyServer({ upstreamUrl: raw.url, middlewares, server: SMALL });
    cleanups.push(() => proxy.close({ graceMs: 0 }));

    const res = await request(proxy.url, {
      method: method as 'GET' | 'POST',
      headers: { accept: 'application/json, text/event-stream', 'content-type': 'application/json' },
      ...(method === 'POST' ? { body: JSON.stringify(initializeBody(1)) } : {}),
    });
    expect(res.statusCode).toBe(200);
    const parser = new SseParser();
    const got: number[] = [];
    res.body.on('data', (c: Buffer) => {
      for (const ev of parser.push(c)) got.push(JSON.parse(ev.data).params.n);
    });
    await until(() => got.length === 1, 'first event');

    // A request opened AFTER the stream's is cut by requestTimeout: by then the stream's own request
    // is older than requestTimeout and has been through the timeout check.
    const slow = rawClient(
      proxy.port,
      'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{',
    );
    await slow.closed;
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408 /);

    upstream?.end(
      `data: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { n: 2 } })}\n\n`,
    );
    await until(() => got.length === 2, 'second event');
    expect(got).toEqual([1, 2]);
  });
});
