import { inspect } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { composeChain, Exchange, jsonResponse, type Middleware } from '../src/index.js';

function makeExchange(): Exchange {
  return new Exchange({
    request: {
      method: 'POST',
      path: '/mcp',
      query: '',
      headers: {},
      body: Buffer.alloc(0),
      remoteAddress: '127.0.0.1',
      protocol: 'http',
    },
    requestId: 'r1',
    serverName: 'demo',
    route: 'streamable',
    rpc: { jsonrpc: '2.0', id: 1, method: 'ping' },
    upstreamHeaders: {},
    signal: new AbortController().signal,
  });
}

describe('composeChain', () => {
  it('runs middlewares outermost first and unwinds in reverse', async () => {
    const order: string[] = [];
    const mk = (name: string): Middleware => ({
      name,
      async handle(_ex, next) {
        order.push(`>${name}`);
        const res = await next();
        order.push(`<${name}`);
        return res;
      },
    });
    const run = composeChain([mk('a'), mk('b')], async () => {
      order.push('terminal');
      return jsonResponse(200, { ok: true });
    });
    const res = await run(makeExchange());
    expect(res.status).toBe(200);
    expect(order).toEqual(['>a', '>b', 'terminal', '<b', '<a']);
  });

  it('lets a middleware answer early without calling the inner layers', async () => {
    let reached = false;
    const run = composeChain(
      [{ name: 'deny', handle: async () => jsonResponse(403, { error: 'no' }) }],
      async () => {
        reached = true;
        return jsonResponse(200, {});
      },
    );
    expect((await run(makeExchange())).status).toBe(403);
    expect(reached).toBe(false);
  });

  it('rejects a middleware without a handle function', () => {
    expect(() =>
      composeChain([{ name: 'x' } as unknown as Middleware], async () => jsonResponse(200, {})),
    ).toThrow(/"middlewares"/);
  });
});

describe('Exchange', () => {
  it('never serialises the inbound token', () => {
    const ex = makeExchange();
    ex.inboundToken = 'secret-token-value';
    expect(ex.inboundToken).toBe('secret-token-value');
    expect(JSON.stringify(ex)).not.toContain('secret-token-value');
    expect(Object.keys(ex)).not.toContain('inboundToken');
    expect(inspect(ex, { showHidden: true, depth: 5 })).not.toContain('secret-token-value');
    expect(JSON.stringify({ ...ex })).not.toContain('secret-token-value');
    expect(ex.derive({ jsonrpc: '2.0', id: 2, method: 'tools/list' }).inboundToken).toBe(
      'secret-token-value',
    );
  });
});
