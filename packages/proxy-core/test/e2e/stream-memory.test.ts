/**
 * Long-lived streams must not retain memory per relayed event: heap after a forced GC is compared before
 * and after many events through ONE open SSE stream (a memory bound, never a time bound).
 * `gc` is exposed at run time (`--expose-gc` cannot be passed to jest workers).
 */
import type { ServerResponse } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from '@jest/globals';
import { request } from 'undici';
import { type Middleware, mapResponseMessages, SseParser, startProxyServer } from '../../src/index.js';
import { startRawServer, until } from '../helpers.js';

setFlagsFromString('--expose-gc');
const gcFn = runInNewContext('gc') as () => void;

function heapUsed(): number {
  gcFn();
  gcFn();
  return process.memoryUsage().heapUsed;
}

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** Reads every message of the answer without changing it, like telemetry's `inspectResponses`. */
const inspector: Middleware = {
  name: 'inspector',
  async handle(_ex, next) {
    return mapResponseMessages(await next(), (m) => m);
  },
};

const note = (n: number) =>
  `id: ${n}\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 't', progress: n, message: 'working on it' } })}\n\n`;

describe('memory of a long-lived SSE stream', () => {
  it.each([
    ['transformed SSE body (mapResponseMessages)', [inspector]],
    ['raw stream body', [] as Middleware[]],
  ])('does not grow with the number of relayed events (%s)', async (_label, middlewares) => {
    let upstream: ServerResponse | undefined;
    const raw = await startRawServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      upstream = res;
    });
    cleanups.push(raw.close);
    const proxy = await startProxyServer({ upstreamUrl: raw.url, middlewares });
    cleanups.push(() => proxy.close({ graceMs: 0 }));

    const res = await request(proxy.url, { method: 'GET', headers: { accept: 'text/event-stream' } });
    expect(res.statusCode).toBe(200);
    const parser = new SseParser();
    let received = 0;
    res.body.on('data', (chunk: Buffer) => {
      received += parser.push(chunk).length;
    });
    await until(() => upstream !== undefined, 'upstream stream');
    const up = upstream as ServerResponse;

    let sent = 0;
    /** Send `count` events in batches, each batch relayed to the client before the next one. */
    async function relay(count: number): Promise<void> {
      const target = sent + count;
      while (sent < target) {
        const batch = Math.min(500, target - sent);
        let chunk = '';
        for (let i = 0; i < batch; i++) chunk += note(++sent);
        up.write(chunk);
        await until(() => received >= sent, `${sent} events relayed`);
      }
    }

    await relay(2_000); // warm-up: JIT, buffers, lazily created structures
    const before = heapUsed();
    const events = 20_000;
    await relay(events);
    const after = heapUsed();
    // A retained event (its data string and wrappers) is several hundred bytes (~750 before the fix);
    // 2 MiB over 20k events (~100 bytes/event) is generous noise room while still catching a per-event leak.
    expect(after - before).toBeLessThan(2 * 1024 * 1024);
    expect(received).toBe(sent);
    up.end();
    await res.body.dump().catch(() => {});
  });
});
