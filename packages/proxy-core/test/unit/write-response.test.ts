/**
 * writeResponse's raw-stream relay (the passthrough hot path) against a real node:http server and a
 * real undici client: full relay with backpressure, source failure, client going away, endSignal.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getEventListeners, setMaxListeners } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { runInThisContext } from 'node:vm';
import { request } from 'undici';
import type { SseEvent } from '../../src/sse/event.js';
import { writeResponse } from '../../src/edge/write-response.js';

type Handler = (res: ServerResponse) => Promise<void>;
let handler: Handler = async () => {};
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((_req, res) => {
    void handler(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

/** Serve the next request with `fn`; resolves with what writeResponse resolved and the source stream. */
function serveNext(fn: Handler): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    handler = async (res) => {
      try {
        await fn(res);
        resolve();
      } catch (err) {
        reject(err);
      }
    };
  });
}

describe('writeResponse: stream bodies', () => {
  it('relays a large body byte for byte through backpressure and ends the response', async () => {
    const size = 8 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = i % 251;
    let sent = 0;
    const source = new Readable({
      read() {
        if (sent >= size) return this.push(null);
        sent += chunk.length;
        this.push(chunk);
      },
    });
    const served = serveNext((res) =>
      writeResponse(
        {
          status: 200,
          headers: { 'content-type': 'application/octet-stream' },
          body: { type: 'stream', stream: source },
        },
        res,
      ),
    );
    const res = await request(url);
    expect(res.statusCode).toBe(200);
    // Read slowly at first so the server sees write() return false and has to wait for 'drain'.
    let received = 0;
    let mismatch = false;
    for await (const part of res.body as AsyncIterable<Buffer>) {
      for (let i = 0; i < part.length; i++) {
        if (part[i] !== ((received + i) % chunk.length) % 251) mismatch = true;
      }
      received += part.length;
      if (received < 256 * 1024) await new Promise((r) => setImmediate(r));
    }
    await served;
    expect(received).toBe(size);
    expect(mismatch).toBe(false);
    expect(source.destroyed).toBe(true);
  });

  it('destroys the response (client sees a truncation) when the source fails mid-way', async () => {
    const source = new PassThrough();
    const served = serveNext((res) =>
      writeResponse({ status: 200, headers: {}, body: { type: 'stream', stream: source } }, res),
    );
    // Headers go out with the first chunk.
    source.write('partial');
    const res = await request(url);
    const reading = res.body.text();
    source.destroy(new Error('upstream reset'));
    await expect(reading).rejects.toThrow();
    await served;
  });

  it('stops relaying and destroys the source when the client goes away', async () => {
    const source = new PassThrough();
    const served = serveNext((res) =>
      writeResponse({ status: 200, headers: {}, body: { type: 'stream', stream: source } }, res),
    );
    source.write('first');
    const res = await request(url);
    const first = await (res.body as unknown as AsyncIterable<Buffer>)[Symbol.asyncIterator]().next();
    expect(first.value?.toString()).toBe('first');
    res.body.destroy();
    await served;
    expect(source.destroyed).toBe(true);
  });

  it('ends the response cleanly after what was relayed when endSignal fires', async () => {
    const source = new PassThrough();
    const end = new AbortController();
    const served = serveNext((res) =>
      writeResponse(
        {
          status: 200,
          headers: { 'content-type': 'text/event-stream' },
          body: { type: 'stream', stream: source },
        },
        res,
        { endSignal: end.signal },
      ),
    );
    const res = await request(url);
    source.write('data: one\n\n');
    const it = (res.body as unknown as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value?.toString()).toBe('data: one\n\n');
    end.abort();
    await served;
    // The response ends cleanly: the iterator finishes without an error.
    const rest = await it.next();
    expect(rest.done).toBe(true);
    expect(source.destroyed).toBe(true);
  });

  it('does not write at all when endSignal already fired', async () => {
    const source = new PassThrough();
    const end = new AbortController();
    end.abort();
    const served = serveNext((res) =>
      writeResponse({ status: 200, headers: {}, body: { type: 'stream', stream: source } }, res, {
        endSignal: end.signal,
      }),
    );
    const res = await request(url);
    source.write('never');
    expect(await res.body.text()).toBe('');
    await served;
    expect(source.destroyed).toBe(true);
  });
});

describe('writeResponse: resources', () => {
  it('leaves no listeners behind on the response after relaying a stream', async () => {
    let listeners = -1;
    const served = serveNext(async (res) => {
      const before = res.listenerCount('close') + res.listenerCount('drain');
      await writeResponse(
        { status: 200, headers: {}, body: { type: 'stream', stream: Readable.from([Buffer.from('x')]) } },
        res,
      );
      listeners = res.listenerCount('close') + res.listenerCount('drain') - before;
    });
    const res = await request(url);
    expect(await res.body.text()).toBe('x');
    await served;
    expect(listeners).toBe(0);
  });
});

describe('writeResponse: a shared endSignal', () => {
  it('50 open streams put one abort listener on the signal (no MaxListenersExceededWarning) and all end when it fires', async () => {
    // jest's realm creates AbortSignals with no listener limit; restore Node's default of 10 so the
    // warning a listener per stream would cause is really emitted. Warnings go to the real process.
    const end = new AbortController();
    setMaxListeners(10, end.signal);
    const realProcess = runInThisContext('process') as NodeJS.Process;
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    realProcess.on('warning', onWarning);
    try {
      const count = 50;
      const served: Promise<void>[] = [];
      const sources: PassThrough[] = [];
      handler = async (res) => {
        const i = served.length;
        const source = new PassThrough();
        if (i % 2 === 1) sources.push(source);
        async function* events(): AsyncGenerator<SseEvent> {
          yield { data: `sse ${i}` };
          await new Promise(() => {}); // never ends on its own
        }
        served.push(
          writeResponse(
            i % 2 === 0
              ? { status: 200, headers: {}, body: { type: 'sse', events: events() } }
              : {
                  status: 200,
                  headers: { 'content-type': 'text/event-stream' },
                  body: { type: 'stream', stream: source },
                },
            res,
            { endSignal: end.signal },
          ),
        );
        source.write(`data: stream ${i}\n\n`);
      };
      const responses = await Promise.all(Array.from({ length: count }, () => request(url)));
      expect(served).toHaveLength(count);
      expect(getEventListeners(end.signal, 'abort')).toHaveLength(1);
      const texts = responses.map((r) => r.body.text());
      end.abort();
      await Promise.all(served);
      const bodies = await Promise.all(texts);
      expect(bodies.filter((b) => /^data: (sse|stream) \d+\n\n$/.test(b))).toHaveLength(count);
      expect(sources.every((s) => s.destroyed)).toBe(true);
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on a later tick
      expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
    } finally {
      realProcess.off('warning', onWarning);
      handler = async () => {};
    }
  });
});
