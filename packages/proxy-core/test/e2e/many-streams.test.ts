/**
 * Many concurrently open streams all watch the handler's two shared shutdown signals (through one
 * fan-out listener each, see write-response.ts; the listener count and the warning are asserted in
 * test/unit/write-response.test.ts, where the signal is the test's own): graceful close ends every one.
 */
import type { ServerResponse } from 'node:http';
import { afterAll, describe, expect, it } from '@jest/globals';
import { type Dispatcher, request } from 'undici';
import { type Middleware, mapResponseMessages, startProxyServer } from '../../src/index.js';
import { initializeBody, startRawServer, until } from '../helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const inspector: Middleware = {
  name: 'inspector',
  async handle(_ex, next) {
    return mapResponseMessages(await next(), (m) => m);
  },
};

describe('many open streams', () => {
  it('50 GET and 50 POST SSE streams all end cleanly at close()', async () => {
    const upstreams: ServerResponse[] = [];
    const raw = await startRawServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': open\n\n');
      upstreams.push(res);
    });
    cleanups.push(raw.close);
    // With a transforming middleware the POST answers are `sse` bodies, the GET ones are raw streams.
    const proxy = await startProxyServer({ upstreamUrl: raw.url, middlewares: [inspector] });
    cleanups.push(() => proxy.close({ graceMs: 0 }));

    const open: Array<Promise<Dispatcher.ResponseData>> = [];
    for (let i = 0; i < 50; i++) {
      open.push(request(proxy.url, { method: 'GET', headers: { accept: 'text/event-stream' } }));
      open.push(
        request(proxy.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
          body: JSON.stringify(initializeBody(i)),
        }),
      );
    }
    const responses = await Promise.all(open);
    expect(responses.map((r) => r.statusCode)).toEqual(Array(100).fill(200));
    expect(upstreams).toHaveLength(100);
    const ended = responses.map((r) => r.body.text());

    // Graceful close ends all of them cleanly (grace 0: POST streams too).
    await proxy.close({ graceMs: 0 });
    const bodies = await Promise.all(ended);
    expect(bodies.every((b) => b.startsWith(': open'))).toBe(true);
    await until(() => upstreams.every((u) => u.destroyed || u.writableEnded), 'upstream streams closed');
  });
});
