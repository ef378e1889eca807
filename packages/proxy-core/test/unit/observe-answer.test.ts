/**
 * observeAnswer: the JSON-RPC answer of a response seen on its way to the client, the body untouched.
 * Several observers of one raw stream share one tap (one decode, one parse per message).
 */
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { type AnswerFacts, observeAnswer, type ProxyResponse } from '../../src/index.js';

const answer = (id: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: 'ok' }], ...extra } });

function streamResponse(contentType: string, chunks: string[]): ProxyResponse {
  return {
    status: 200,
    headers: { 'content-type': contentType, 'mcp-session-id': 's-1' },
    body: { type: 'stream', stream: Readable.from(chunks.map((c) => Buffer.from(c))) },
  };
}

async function drain(res: ProxyResponse): Promise<string> {
  if (res.body.type !== 'stream') throw new Error(`expected a raw stream, got ${res.body.type}`);
  const parts: Buffer[] = [];
  for await (const c of res.body.stream) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

/** The client signal of the exchange every observer below belongs to. */
const clientSignal = new AbortController().signal;

function observer(res: ProxyResponse, rpcId: number, maxInspectBytes = 1024 * 1024) {
  const seen: AnswerFacts[] = [];
  const out = observeAnswer(res, { rpcId, expectsAnswer: true, maxInspectBytes, signal: clientSignal }, (f) =>
    seen.push(f),
  );
  return { out, seen };
}

describe('observeAnswer on raw streams', () => {
  it('finds the answer in a JSON body split across chunks and leaves the bytes and the response as they were', async () => {
    const text = answer(3);
    const res = streamResponse('application/json', [text.slice(0, 10), text.slice(10)]);
    const { out, seen } = observer(res, 3);
    expect(out).toBe(res);
    expect(await drain(out)).toBe(text);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.answer).toEqual(JSON.parse(text));
    expect(seen[0]?.sessionId).toBe('s-1');
    expect(seen[0]?.incomplete).toBeUndefined();
  });

  it('finds the answer among SSE notifications, skipping an answer to another id', async () => {
    const chunks = [
      `event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{}}\n\n`,
      `data: ${answer(99)}\n\n`,
      `data: ${answer(4, { isError: true })}\r\n\r\n`,
    ];
    const res = streamResponse('text/event-stream', chunks);
    const { out, seen } = observer(res, 4);
    expect(await drain(out)).toBe(chunks.join(''));
    expect(seen[0]?.answer).toEqual(JSON.parse(answer(4, { isError: true })));
  });

  it('shares one tap between observers of the same stream; each gets its own facts and limit', async () => {
    const text = answer(5, { pad: 'x'.repeat(2000) });
    const res = streamResponse('application/json', [text]);
    const stream = res.body.type === 'stream' ? res.body.stream : undefined;
    const small = observer(res, 5, 1000);
    const listenersAfterFirst = stream?.listenerCount('data');
    const large = observer(small.out, 5);
    // The second observer joined the first one's tap instead of adding its own listeners.
    expect(stream?.listenerCount('data')).toBe(listenersAfterFirst);
    expect(await drain(large.out)).toBe(text);
    expect(small.seen).toEqual([
      { status: 200, sessionId: 's-1', uninspectedBytes: Buffer.byteLength(text) },
    ]);
    expect(large.seen[0]?.answer).toEqual(JSON.parse(text));
    expect(small.seen[0]).not.toBe(large.seen[0]);
    // Everything is removed once the body ended.
    expect(stream?.listenerCount('data')).toBe(0);
  });

  it('a stream that already started flowing gets its own tap (a late observer cannot join)', async () => {
    const pass = new PassThrough();
    const res: ProxyResponse = {
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: { type: 'stream', stream: pass },
    };
    const first = observer(res, 6);
    const received: string[] = [];
    pass.on('data', (c: Buffer) => received.push(c.toString()));
    pass.write(`data: {"jsonrpc":"2.0","method":"notifications/message","params":{}}\n\n`);
    await new Promise((r) => setImmediate(r));
    const late = observer(res, 6);
    pass.end(`data: ${answer(6)}\n\n`);
    await new Promise((r) => pass.once('close', r));
    expect(first.seen[0]?.answer).toEqual(JSON.parse(answer(6)));
    expect(late.seen[0]?.answer).toEqual(JSON.parse(answer(6)));
    expect(received.join('')).toContain('"id":6');
  });

  it('a body cut short reports incomplete without an answer', async () => {
    const pass = new PassThrough();
    const res: ProxyResponse = {
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: { type: 'stream', stream: pass },
    };
    const a = observer(res, 7);
    const b = observer(res, 7);
    pass.on('data', () => {});
    pass.write('data: {"jsonrpc":"2.0","method":"notifications/message","params":{}}\n\n');
    pass.destroy();
    await new Promise((r) => pass.once('close', r));
    for (const o of [a, b]) expect(o.seen).toEqual([{ status: 200, sessionId: undefined, incomplete: true }]);
  });

  it('a body nobody ever reads is settled when the client goes away', async () => {
    const controller = new AbortController();
    const res = streamResponse('application/json', [answer(8)]);
    const seen: AnswerFacts[] = [];
    observeAnswer(
      res,
      { rpcId: 8, expectsAnswer: true, maxInspectBytes: 1024, signal: controller.signal },
      (f) => seen.push(f),
    );
    expect(seen).toHaveLength(0);
    controller.abort();
    expect(seen).toEqual([{ status: 200, sessionId: 's-1', incomplete: true }]);
  });

  it('a JSON body that does not parse, or a non-JSON content type, yields no answer and is relayed unchanged', async () => {
    for (const [ct, text] of [
      ['application/json', '{"jsonrpc":"2.0","id":9,'],
      ['text/plain', answer(9)],
    ] as const) {
      const res = streamResponse(ct, [text]);
      const { out, seen } = observer(res, 9);
      expect(await drain(out)).toBe(text);
      expect(seen).toHaveLength(1);
      expect(seen[0]?.answer).toBeUndefined();
      expect(seen[0]?.incomplete).toBeUndefined();
    }
  });
});

describe('observeAnswer on parsed bodies', () => {
  it('a json body is looked at in place; an sse event iterable is wrapped, events unchanged', async () => {
    const value = JSON.parse(answer(10));
    const json: ProxyResponse = { status: 200, headers: {}, body: { type: 'json', value } };
    const a = observer(json, 10);
    expect(a.out).toBe(json);
    expect(a.seen[0]?.answer).toBe(value);

    async function* events() {
      yield { data: '{"jsonrpc":"2.0","method":"notifications/message","params":{}}' };
      yield { data: answer(10) };
    }
    const sse: ProxyResponse = { status: 200, headers: {}, body: { type: 'sse', events: events() } };
    const b = observer(sse, 10);
    expect(b.out.body.type).toBe('sse');
    const relayed: string[] = [];
    if (b.out.body.type === 'sse') for await (const ev of b.out.body.events) relayed.push(ev.data);
    expect(relayed).toHaveLength(2);
    expect(b.seen[0]?.answer).toEqual(value);
  });
});
