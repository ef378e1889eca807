/**
 * Raw byte-stream answers (what the forwarder returns when no inner layer parsed the body) are watched
 * in place: audit hands the very same stream on, reads the chunks as the consumer takes them, and
 * records the outcome when the stream ends or is cut.
 */
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { createAuditMiddleware } from '../src/middleware.js';
import { assertValidEvent, drain, makeExchange, memorySink, run, tick } from './helpers.js';

const call = (id: number) => ({
  jsonrpc: '2.0' as const,
  id,
  method: 'tools/call',
  params: { name: 'echo', arguments: {} },
});

function setup(payloads = false) {
  const sink = memorySink();
  const audit = createAuditMiddleware({
    sinks: [sink],
    ...(payloads ? { payloads: { maxBytes: 1024 } } : {}),
  });
  const events = async () => {
    await audit.flush(1000);
    for (const e of sink.events) assertValidEvent(e);
    return sink.events;
  };
  return { audit, events };
}

const jsonHeaders = (bytes: number) => ({
  'content-type': 'application/json',
  'content-length': String(bytes),
});

describe('audit on raw stream answers', () => {
  it('passes the upstream stream itself on and reads an answer that was fully buffered before audit saw it', async () => {
    const { audit, events } = setup(true);
    const bytes = JSON.stringify({ jsonrpc: '2.0', id: 3, error: { code: -32000, message: 'nope' } });
    const upstream = new PassThrough();
    upstream.end(Buffer.from(bytes)); // every byte (and the end) arrived before the chain returned
    const res = await run([audit], makeExchange({ rpc: call(3) }), async () => ({
      status: 200,
      headers: jsonHeaders(bytes.length),
      body: { type: 'stream', stream: upstream },
    }));
    expect(res.body.type === 'stream' && res.body.stream).toBe(upstream);
    expect(upstream.readableFlowing).toBeNull(); // audit did not start the flow; the consumer does
    expect(res.headers['content-length']).toBe(String(bytes.length));
    expect(await drain(res)).toBe(bytes);
    const [e, ...rest] = await events();
    expect(rest).toHaveLength(0);
    expect(e).toMatchObject({
      outcome: 'application_error',
      rpcError: { code: -32000, message: 'nope' },
      data: { response: { jsonrpc: '2.0', id: 3, error: { code: -32000, message: 'nope' } } },
    });
  });

  it('works whichever way the consumer reads: data events, pipe or read()', async () => {
    const bytes = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { content: [], isError: true } });
    const consumers: Array<(s: Readable) => Promise<string>> = [
      (s) =>
        new Promise((resolve) => {
          let out = '';
          s.on('data', (c) => {
            out += c;
          });
          s.on('end', () => resolve(out));
        }),
      async (s) => {
        const sink = new PassThrough();
        s.pipe(sink);
        let out = '';
        for await (const c of sink) out += c;
        return out;
      },
      (s) =>
        new Promise((resolve) => {
          let out = '';
          s.on('readable', () => {
            for (let c = s.read(); c !== null; c = s.read()) out += c;
          });
          s.on('end', () => resolve(out));
        }),
    ];
    for (const consume of consumers) {
      const { audit, events } = setup();
      const res = await run([audit], makeExchange({ rpc: call(1) }), async () => ({
        status: 200,
        headers: jsonHeaders(bytes.length),
        body: {
          type: 'stream',
          stream: Readable.from([bytes.slice(0, 7), bytes.slice(7)].map((s) => Buffer.from(s))),
        },
      }));
      if (res.body.type !== 'stream') throw new Error('expected the stream');
      expect(await consume(res.body.stream)).toBe(bytes);
      const [e] = await events();
      expect(e).toMatchObject({ outcome: 'application_error', toolError: true });
    }
  });

  it('does not inspect a JSON answer over 256 KiB and records its size', async () => {
    const { audit, events } = setup(true);
    const big = JSON.stringify({ jsonrpc: '2.0', id: 2, result: { text: 'x'.repeat(300 * 1024) } });
    const parts: Buffer[] = [];
    for (let i = 0; i < big.length; i += 16 * 1024) parts.push(Buffer.from(big.slice(i, i + 16 * 1024)));
    const res = await run([audit], makeExchange({ rpc: call(2) }), async () => ({
      status: 200,
      headers: jsonHeaders(big.length),
      body: { type: 'stream', stream: Readable.from(parts) },
    }));
    expect((await drain(res)).length).toBe(big.length);
    const [e] = await events();
    expect(e).toMatchObject({
      outcome: 'success',
      data: { responseOmitted: { reason: 'too_large', bytes: big.length } },
    });
  });

  it('records an answer cut mid-way by the upstream as incomplete (error), once', async () => {
    const { audit, events } = setup();
    const upstream = new PassThrough();
    const res = await run([audit], makeExchange({ rpc: call(4) }), async () => ({
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: { type: 'stream', stream: upstream },
    }));
    if (res.body.type !== 'stream') throw new Error('expected the stream');
    const stream = res.body.stream;
    stream.on('data', () => {});
    stream.on('error', () => {});
    upstream.write(
      'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{}}\n\n',
    );
    await tick();
    expect(await events()).toHaveLength(0);
    upstream.destroy(new Error('upstream reset'));
    await tick();
    const [e, ...rest] = await events();
    expect(rest).toHaveLength(0);
    expect(e).toMatchObject({ outcome: 'error', streamIncomplete: true, status: 200 });
  });

  it('records an answer nobody read (the client left first) as incomplete', async () => {
    const { audit, events } = setup();
    const client = new AbortController();
    const upstream = new PassThrough();
    await run([audit], makeExchange({ rpc: call(5), signal: client.signal }), async () => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: { type: 'stream', stream: upstream },
    }));
    upstream.write('{"jsonrpc":"2.0",');
    expect(await events()).toHaveLength(0);
    client.abort();
    const [e, ...rest] = await events();
    expect(rest).toHaveLength(0);
    expect(e).toMatchObject({ outcome: 'error', streamIncomplete: true });
    upstream.destroy(); // the edge would destroy it; no second event
    await tick();
    expect(await events()).toHaveLength(1);
  });

  it('passes an object-mode body on untouched and records the outcome from the status', async () => {
    const { audit, events } = setup();
    const objects = [{ a: 1 }, { b: 2 }];
    const res = await run([audit], makeExchange({ rpc: call(7) }), async () => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: { type: 'stream', stream: Readable.from(objects) },
    }));
    if (res.body.type !== 'stream') throw new Error('expected the stream');
    const seen: unknown[] = [];
    for await (const o of res.body.stream) seen.push(o);
    expect(seen).toEqual(objects);
    const [e] = await events();
    expect(e).toMatchObject({ outcome: 'success', status: 200 });
    expect(e?.streamIncomplete).toBeUndefined();
  });

  it('records an already destroyed stream as incomplete at once', async () => {
    const { audit, events } = setup();
    const upstream = new PassThrough();
    upstream.destroy();
    await run([audit], makeExchange({ rpc: call(6) }), async () => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: { type: 'stream', stream: upstream },
    }));
    const [e] = await events();
    expect(e).toMatchObject({ outcome: 'error', streamIncomplete: true });
  });
});
