import { Readable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import {
  type JsonRpcMessage,
  mapResponseMessages,
  ProxyCoreErrorCode,
  type ProxyResponse,
  readJsonBody,
  type SseEvent,
  serializeSseEvent,
} from '../../src/index.js';

const tag = (m: JsonRpcMessage): JsonRpcMessage =>
  'result' in m ? { ...m, result: { ...m.result, tagged: true } } : m;

async function collect(events: AsyncIterable<SseEvent>): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const ev of events) out.push(ev);
  return out;
}

describe('mapResponseMessages', () => {
  it('maps a JSON stream body and drops content-length', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 3, result: { a: 1 } });
    const res: ProxyResponse = {
      status: 200,
      headers: { 'content-type': 'application/json', 'content-length': String(body.length), 'x-up': '1' },
      body: { type: 'stream', stream: Readable.from([Buffer.from(body)]) },
    };
    const out = await mapResponseMessages(res, tag);
    expect(out.headers['content-length']).toBeUndefined();
    expect(out.headers['x-up']).toBe('1');
    expect(out.body).toEqual({
      type: 'json',
      value: { jsonrpc: '2.0', id: 3, result: { a: 1, tagged: true } },
    });
  });

  it('maps a json body value', async () => {
    const res: ProxyResponse = {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: { type: 'json', value: { jsonrpc: '2.0', id: 'x', result: {} } },
    };
    const out = await mapResponseMessages(res, tag);
    expect(out.body).toEqual({ type: 'json', value: { jsonrpc: '2.0', id: 'x', result: { tagged: true } } });
  });

  it('fails with UPSTREAM_RESPONSE_TOO_LARGE over maxJsonBytes', async () => {
    const res: ProxyResponse = {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: { type: 'stream', stream: Readable.from([Buffer.alloc(64, 0x20), Buffer.alloc(64, 0x20)]) },
    };
    await expect(mapResponseMessages(res, tag, { maxJsonBytes: 100 })).rejects.toMatchObject({
      code: ProxyCoreErrorCode.UpstreamResponseTooLarge,
      status: 502,
    });
  });

  it('passes non-JSON bodies through and rejects non-JSON bytes with a JSON type', async () => {
    const plain: ProxyResponse = {
      status: 500,
      headers: { 'content-type': 'text/plain' },
      body: { type: 'stream', stream: Readable.from(['boom']) },
    };
    expect(await mapResponseMessages(plain, tag)).toBe(plain);
    const broken: ProxyResponse = {
      status: 200,
      headers: { 'content-type': 'application/json', 'content-length': '9' },
      body: { type: 'stream', stream: Readable.from([Buffer.from('not json!')]) },
    };
    await expect(mapResponseMessages(broken, tag)).rejects.toMatchObject({
      code: ProxyCoreErrorCode.UpstreamBadResponse,
      status: 502,
    });
  });

  it('maps SSE events one by one, keeping ids, event names, comments and non-JSON-RPC events', async () => {
    const events: SseEvent[] = [
      { data: '', comments: ['hello'] },
      { data: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: {} }), id: '1' },
      { data: JSON.stringify({ jsonrpc: '2.0', id: 1, result: { x: 1 } }), id: '2', event: 'message' },
      { data: '/messages?sessionId=1', event: 'endpoint' },
      { data: 'not json', id: '3' },
    ];
    const wire = events.map(serializeSseEvent).join('');
    const res: ProxyResponse = {
      status: 200,
      headers: { 'content-type': 'text/event-stream', 'content-length': String(wire.length) },
      body: { type: 'stream', stream: Readable.from([Buffer.from(wire)]) },
    };
    const out = await mapResponseMessages(res, tag);
    expect(out.headers['content-length']).toBeUndefined();
    expect(out.body.type).toBe('sse');
    const mapped = await collect((out.body as { events: AsyncIterable<SseEvent> }).events);
    expect(mapped).toEqual([
      { data: '', hasData: false, comments: ['hello'] },
      events[1],
      {
        data: JSON.stringify({ jsonrpc: '2.0', id: 1, result: { x: 1, tagged: true } }),
        id: '2',
        event: 'message',
      },
      events[3],
      events[4],
    ]);
  });

  it('relays an SSE event the function leaves unchanged as received, byte for byte', async () => {
    // Formatting a re-serialisation would not keep (spaces, key order, escapes).
    const original = '{ "jsonrpc": "2.0", "id": 7, "result": { "b": 1, "a": "\\u00e9" } }';
    const wire = serializeSseEvent({ data: original, id: '9', event: 'message' });
    const res: ProxyResponse = {
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: { type: 'stream', stream: Readable.from([Buffer.from(wire)]) },
    };
    let seen: JsonRpcMessage | undefined;
    const out = await mapResponseMessages(res, (m) => {
      seen = m;
      return m;
    });
    const [ev] = await collect((out.body as { events: AsyncIterable<SseEvent> }).events);
    expect(seen).toMatchObject({ id: 7, result: { a: 'é' } });
    expect(ev?.data).toBe(original);
    expect(ev?.id).toBe('9');
  });

  it('is lazy on SSE: the first event is mapped before the second exists', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let producedSecond = false;
    async function* upstream() {
      yield Buffer.from(serializeSseEvent({ data: JSON.stringify({ jsonrpc: '2.0', id: 1, result: {} }) }));
      await gate;
      producedSecond = true;
      yield Buffer.from(serializeSseEvent({ data: JSON.stringify({ jsonrpc: '2.0', id: 2, result: {} }) }));
    }
    const res: ProxyResponse = {
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: { type: 'stream', stream: Readable.from(upstream()) },
    };
    const out = await mapResponseMessages(res, tag);
    const it = (out.body as { events: AsyncIterable<SseEvent> }).events[Symbol.asyncIterator]();
    const first = await it.next();
    expect(producedSecond).toBe(false);
    expect(JSON.parse((first.value as SseEvent).data)).toEqual({
      jsonrpc: '2.0',
      id: 1,
      result: { tagged: true },
    });
    release();
    const second = await it.next();
    expect(JSON.parse((second.value as SseEvent).data).id).toBe(2);
    expect((await it.next()).done).toBe(true);
  });

  it('maps every element of a JSON array answer', async () => {
    const res: ProxyResponse = {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: { type: 'json', value: [{ jsonrpc: '2.0', id: 1, result: {} }, 5] },
    };
    const out = await mapResponseMessages(res, tag);
    expect(out.body).toEqual({
      type: 'json',
      value: [{ jsonrpc: '2.0', id: 1, result: { tagged: true } }, 5],
    });
  });
});

describe('readJsonBody', () => {
  it('parses a stream body and rejects invalid JSON as a bad upstream response', async () => {
    const ok: ProxyResponse = {
      status: 200,
      headers: {},
      body: { type: 'stream', stream: Readable.from(['{"a":1}']) },
    };
    expect(await readJsonBody(ok)).toEqual({ a: 1 });
    const bad: ProxyResponse = {
      status: 200,
      headers: {},
      body: { type: 'stream', stream: Readable.from(['{']) },
    };
    await expect(readJsonBody(bad)).rejects.toMatchObject({ code: ProxyCoreErrorCode.UpstreamBadResponse });
    await expect(readJsonBody(ok, { maxJsonBytes: 0 })).rejects.toThrow(TypeError);
  });
});
