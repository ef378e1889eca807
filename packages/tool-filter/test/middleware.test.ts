import type { JsonRpcMessage, ProxyResponse, SseEvent } from '@bastion-mcp/proxy-core';
import { composeChain, Exchange, jsonResponse } from '@bastion-mcp/proxy-core';
import { describe, expect, it } from '@jest/globals';
import { createToolFilterMiddleware } from '../src/middleware.js';

function exchange(rpc: JsonRpcMessage): Exchange {
  return new Exchange({
    request: {
      method: 'POST',
      path: '/mcp',
      query: '',
      headers: {},
      body: Buffer.from(JSON.stringify(rpc)),
      remoteAddress: '127.0.0.1',
      protocol: 'http',
    },
    requestId: 'r1',
    serverName: 'demo',
    route: 'streamable',
    rpc,
    upstreamHeaders: {},
    signal: new AbortController().signal,
  });
}

async function collect(res: ProxyResponse): Promise<unknown[]> {
  if (res.body.type !== 'sse') throw new Error(`expected sse, got ${res.body.type}`);
  const out: unknown[] = [];
  for await (const ev of res.body.events) out.push(ev.event === 'ping' ? ev : JSON.parse(ev.data));
  return out;
}

const mw = createToolFilterMiddleware({ filter: ['echo', 'sum'], overrides: { add: { name: 'sum' } } });
const list = { jsonrpc: '2.0' as const, id: 3, method: 'tools/list' };
const tools = { tools: [{ name: 'echo' }, { name: 'add' }, { name: 'delete_repo' }], nextCursor: 'n' };

describe('tool-filter middleware (chain)', () => {
  it('rewrites only the answer to this tools/list inside an SSE stream; other events pass untouched', async () => {
    const events: SseEvent[] = [
      { event: 'ping', data: '' },
      { data: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' }) },
      { data: JSON.stringify({ jsonrpc: '2.0', id: 99, result: tools }) },
      { data: JSON.stringify({ jsonrpc: '2.0', id: 3, result: tools }), id: 'ev-1' },
    ];
    async function* gen() {
      yield* events;
    }
    const chain = composeChain([mw], async () => ({
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: { type: 'sse', events: gen() },
    }));
    const out = await collect(await chain(exchange(list)));
    expect(out).toEqual([
      { event: 'ping', data: '' },
      { jsonrpc: '2.0', method: 'notifications/tools/list_changed' },
      { jsonrpc: '2.0', id: 99, result: tools }, // not the answer to this request
      { jsonrpc: '2.0', id: 3, result: { tools: [{ name: 'echo' }, { name: 'sum' }], nextCursor: 'n' } },
    ]);
  });

  it('filters tools/list answers on a GET stream (resumption, legacy /sse) by shape, since no id ties them', async () => {
    async function* gen(): AsyncGenerator<SseEvent> {
      yield { event: 'endpoint', data: '/messages?sessionId=1' };
      yield { data: JSON.stringify({ jsonrpc: '2.0', id: 41, result: tools }) };
      yield { data: JSON.stringify({ jsonrpc: '2.0', id: 42, result: { content: [] } }) };
    }
    const ex = new Exchange({
      request: {
        method: 'GET',
        path: '/sse',
        query: '',
        headers: { accept: 'text/event-stream' },
        body: Buffer.alloc(0),
        remoteAddress: '127.0.0.1',
        protocol: 'http',
      },
      requestId: 'g1',
      serverName: 'demo',
      route: 'sse-stream',
      rpc: undefined,
      upstreamHeaders: {},
      signal: new AbortController().signal,
    });
    const res = await composeChain([mw], async () => ({
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: { type: 'sse', events: gen() },
    }))(ex);
    if (res.body.type !== 'sse') throw new Error('expected sse');
    const out: SseEvent[] = [];
    for await (const ev of res.body.events) out.push(ev);
    expect(out[0]).toEqual({ event: 'endpoint', data: '/messages?sessionId=1' });
    expect(JSON.parse(out[1]?.data ?? '')).toEqual({
      jsonrpc: '2.0',
      id: 41,
      result: { tools: [{ name: 'echo' }, { name: 'sum' }], nextCursor: 'n' },
    });
    expect(JSON.parse(out[2]?.data ?? '')).toEqual({ jsonrpc: '2.0', id: 42, result: { content: [] } });
  });

  it('leaves error answers and non-2xx responses alone', async () => {
    const err = { jsonrpc: '2.0', id: 3, error: { code: -32000, message: 'x' } };
    const a = await composeChain([mw], async () => jsonResponse(200, err))(exchange(list));
    expect(a.body).toEqual({ type: 'json', value: err });
    const b = await composeChain([mw], async () =>
      jsonResponse(500, { jsonrpc: '2.0', id: 3, result: tools }),
    )(exchange(list));
    expect(b.body).toEqual({ type: 'json', value: { jsonrpc: '2.0', id: 3, result: tools } });
  });

  it('passes notifications (incl. tools/list_changed) and other methods without touching them', async () => {
    let seen: JsonRpcMessage | undefined;
    const chain = composeChain([mw], async (ex) => {
      seen = ex.rpc;
      return { status: 202, headers: {}, body: { type: 'empty' } };
    });
    const n = { jsonrpc: '2.0' as const, method: 'notifications/tools/list_changed' };
    const ex = exchange(n);
    await chain(ex);
    expect(seen).toBe(n);
    expect(ex.rpcModified).toBe(false);
  });

  it('sets notes for the outer layers: clientToolName on calls, rejectedBy on refusals', async () => {
    const chain = composeChain([mw], async () => jsonResponse(200, { jsonrpc: '2.0', id: 1, result: {} }));
    const renamed = exchange({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'sum', arguments: { a: 1 } },
    });
    await chain(renamed);
    expect(renamed.notes.clientToolName).toBe('sum');
    expect(renamed.rpc).toEqual({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'add', arguments: { a: 1 } },
    });
    expect(renamed.rpcModified).toBe(true);

    const refused = exchange({
      jsonrpc: '2.0',
      id: 'x',
      method: 'tools/call',
      params: { name: 'delete_repo' },
    });
    const res = await chain(refused);
    expect(res.body).toEqual({
      type: 'json',
      value: { jsonrpc: '2.0', id: 'x', error: { code: -32602, message: 'tool not found' } },
    });
    expect(refused.notes.rejectedBy).toBe('tool-filter');

    const nameless = exchange({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: {} });
    expect((await chain(nameless)).body).toMatchObject({
      value: { error: { code: -32602, message: 'tool name is required' } },
    });
  });
});
