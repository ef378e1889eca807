import type { ServerResponse } from 'node:http';
import { afterAll, describe, expect, it } from '@jest/globals';
import { request } from 'undici';
import {
  type Middleware,
  mapResponseMessages,
  type ProxyServer,
  SseParser,
  type SseEvent,
  startProxyServer,
} from '../../src/index.js';
import { startRawServer, until } from '../helpers.js';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const tagger: Middleware = {
  name: 'tagger',
  async handle(_ex, next) {
    return mapResponseMessages(await next(), (m) =>
      'method' in m ? { ...m, params: { ...m.params, tagged: true } } : m,
    );
  },
};

async function proxyTo(url: string, middlewares: Middleware[] = []): Promise<ProxyServer> {
  const proxy = await startProxyServer({ upstreamUrl: url, middlewares });
  cleanups.push(() => proxy.close({ graceMs: 50 }));
  return proxy;
}

function sseHead(res: ServerResponse) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
}

const note = (n: number, pad = '') =>
  `id: ${n}\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { n, pad } })}\n\n`;

describe('SSE relay', () => {
  it('delivers a transformed event before the upstream sends the next one (mapResponseMessages is incremental)', async () => {
    let sendSecond!: () => void;
    const raw = await startRawServer((req, res) => {
      req.resume();
      sseHead(res);
      res.write(note(1));
      sendSecond = () => res.end(note(2));
    });
    cleanups.push(raw.close);
    const proxy = await proxyTo(raw.url, [tagger]);
    const res = await request(proxy.url, { method: 'GET', headers: { accept: 'text/event-stream' } });
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    const parser = new SseParser();
    const events: SseEvent[] = [];
    for await (const chunk of res.body) {
      events.push(...parser.push(chunk as Buffer));
      if (events.length === 1 && sendSecond) {
        // The second event does not exist yet: the first was relayed on its own.
        expect(JSON.parse(events[0]!.data).params).toEqual({ n: 1, pad: '', tagged: true });
        expect(events[0]!.id).toBe('1');
        sendSecond();
      }
    }
    expect(events.map((e) => JSON.parse(e.data).params.n)).toEqual([1, 2]);
  });

  it.each([
    ['raw stream body', [] as Middleware[]],
    ['transformed SSE body', [tagger]],
  ])('applies backpressure end to end (%s)', async (_label, middlewares) => {
    const total = 160;
    const pad = 'x'.repeat(256 * 1024);
    let written = 0;
    let waiting = false;
    let finished = false;
    const raw = await startRawServer(async (req, res) => {
      req.resume();
      sseHead(res);
      for (let i = 1; i <= total; i++) {
        written = i;
        if (!res.write(note(i, pad))) {
          waiting = true;
          await new Promise((r) => res.once('drain', r));
          waiting = false;
        }
      }
      res.end();
      finished = true;
    });
    cleanups.push(raw.close);
    const proxy = await proxyTo(raw.url, middlewares);
    const res = await request(proxy.url, { method: 'GET', headers: { accept: 'text/event-stream' } });
    // Nobody reads the client body: the upstream must end up blocked, well before it wrote everything.
    await until(() => waiting || finished, 'upstream to block');
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(finished).toBe(false);
    expect(waiting).toBe(true);
    expect(written).toBeLessThan(total);
    // Reading resumes the flow and every event arrives, in order.
    const parser = new SseParser();
    const ids: string[] = [];
    for await (const chunk of res.body) for (const ev of parser.push(chunk as Buffer)) ids.push(ev.id ?? '');
    expect(ids).toEqual(Array.from({ length: total }, (_, i) => String(i + 1)));
    expect(finished).toBe(true);
  });

  it('aborts the upstream request when the client disconnects', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((r) => (upstreamClosed = r));
    const raw = await startRawServer((req, res) => {
      req.resume();
      sseHead(res);
      res.write(note(1));
      res.on('close', () => upstreamClosed());
    });
    cleanups.push(raw.close);
    const proxy = await proxyTo(raw.url);
    const res = await request(proxy.url, { method: 'GET', headers: { accept: 'text/event-stream' } });
    const it = res.body[Symbol.asyncIterator]();
    await it.next();
    res.body.destroy();
    await closed;
    await until(() => proxy.handler.inFlight === 0, 'proxy to forget the request');
  });
});

describe('graceful close', () => {
  it('ends an open SSE stream cleanly, lets an in-flight POST finish, and refuses new work', async () => {
    let releasePost!: () => void;
    const postGate = new Promise<void>((r) => (releasePost = r));
    let postArrived = false;
    let streamClosedUpstream = false;
    const raw = await startRawServer((req, res) => {
      if (req.method === 'GET') {
        sseHead(res);
        res.write(note(1));
        res.on('close', () => {
          streamClosedUpstream = true;
        });
        return;
      }
      req.resume();
      req.on('end', async () => {
        postArrived = true;
        await postGate;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { done: true } }));
      });
    });
    cleanups.push(raw.close);
    const proxy = await startProxyServer({ upstreamUrl: raw.url });
    const stream = await request(proxy.url, { method: 'GET', headers: { accept: 'text/event-stream' } });
    const inflightPost = request(proxy.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow' } }),
    });
    await until(() => postArrived, 'POST to reach the upstream');
    const closing = proxy.close({ graceMs: 10_000 });

    // The SSE stream ends cleanly (no error) after the event it already carried.
    const parser = new SseParser();
    const events: SseEvent[] = [];
    for await (const chunk of stream.body) events.push(...parser.push(chunk as Buffer));
    expect(events.map((e) => e.id)).toEqual(['1']);
    await until(() => streamClosedUpstream, 'upstream stream to be released');

    // New requests are refused while draining.
    expect(proxy.handler.readiness().ready).toBe(false);

    releasePost();
    const post = await inflightPost;
    expect(post.statusCode).toBe(200);
    expect(await post.body.json()).toEqual({ jsonrpc: '2.0', id: 1, result: { done: true } });
    await closing;
    await expect(request(proxy.url, { method: 'GET' })).rejects.toThrow();
  });
});
