import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort, type McpUpstream, startMcpUpstream, type UpstreamFault } from '../src/mcp/index.js';

const PENDING = Symbol('pending');

/** Settles `promise` against an already-resolved sentinel: tells whether it is still pending now. */
async function isPending(promise: Promise<unknown>): Promise<boolean> {
  return (
    (await Promise.race([
      promise.then(
        () => 'settled',
        () => 'settled',
      ),
      Promise.resolve(PENDING),
    ])) === PENDING
  );
}

function rpcPost(url: string, id: number, signal?: AbortSignal): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'x-probe': String(id),
    },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list' }),
    ...(signal === undefined ? {} : { signal }),
  });
}

describe('McpUpstream.setFault', () => {
  let up: McpUpstream;
  const arrivals = new Map<string, () => void>();
  const arrived = (probe: string): Promise<void> =>
    new Promise((resolve) => {
      arrivals.set(probe, resolve);
    });

  beforeAll(async () => {
    up = await startMcpUpstream({
      onRequest: (request) => {
        const probe = request.headers['x-probe'];
        if (typeof probe === 'string') arrivals.get(probe)?.();
        return undefined;
      },
    });
  });
  afterAll(async () => {
    await up.close();
  });

  it('sends a body that is not JSON with invalid-json', async () => {
    up.setFault('invalid-json', { count: 1 });
    const response = await rpcPost(up.url, 1);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    const body = await response.text();
    expect(() => JSON.parse(body)).toThrow(SyntaxError);
  });

  it('answers 500 with a non-JSON-RPC body with http-500', async () => {
    up.setFault('http-500', { count: 1 });
    const response = await rpcPost(up.url, 2);
    expect(response.status).toBe(500);
    expect(await response.text()).toBe('upstream exploded');
  });

  it('drops the connection after one SSE event with reset-mid-stream', async () => {
    up.setFault('reset-mid-stream', { count: 1 });
    const response = await rpcPost(up.url, 3);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    let received = '';
    const failure = await (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return 'ended cleanly';
          received += Buffer.from(value).toString('utf8');
        }
      } catch (error) {
        return error;
      }
    })();
    // undici's premature-close error (a TypeError from another realm than jest's).
    expect(failure).toMatchObject({ name: 'TypeError', message: 'terminated' });
    expect(received).toContain('"method":"notifications/message"');
  });

  it('never sends headers with stall-headers, while other requests are served', async () => {
    up.setFault('stall-headers', { count: 1 });
    const controller = new AbortController();
    const stalledArrived = arrived('4');
    const stalled = rpcPost(up.url, 4, controller.signal);
    stalled.catch(() => undefined);
    await stalledArrived;
    const next = await rpcPost(up.url, 5);
    expect(next.status).toBe(400); // served normally (no session), after the stalled one arrived
    await next.body?.cancel();
    expect(await isPending(stalled)).toBe(true);
    expect(up.requests.find((r) => r.headers['x-probe'] === '4')?.status).toBeUndefined();
    controller.abort();
    await expect(stalled).rejects.toThrow();
  });

  it('sends headers and half an event with stall-body', async () => {
    up.setFault('stall-body', { count: 1 });
    const controller = new AbortController();
    const response = await rpcPost(up.url, 6, controller.signal);
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value ?? new Uint8Array()).toString('utf8')).toBe(
      'event: message\ndata: {"jsonrpc":"2.0",',
    );
    const second = reader.read();
    second.catch(() => undefined);
    const next = await rpcPost(up.url, 7);
    await next.body?.cancel();
    expect(await isPending(second)).toBe(true);
    controller.abort();
    await expect(second).rejects.toThrow();
  });

  it('faults only `count` requests, and every request until cleared without a count', async () => {
    up.setFault('http-500', { count: 2 });
    const statuses: number[] = [];
    for (let id = 10; id < 13; id++) {
      const response = await rpcPost(up.url, id);
      statuses.push(response.status);
      await response.body?.cancel();
    }
    expect(statuses).toEqual([500, 500, 400]);

    up.setFault('http-500');
    for (let id = 13; id < 16; id++) {
      const response = await rpcPost(up.url, id);
      expect(response.status).toBe(500);
      await response.body?.cancel();
    }
    up.setFault(null);
    const cleared = await rpcPost(up.url, 16);
    expect(cleared.status).toBe(400);
    await cleared.body?.cancel();
  });

  it('leaves GETs and requests without an id alone', async () => {
    up.setFault('http-500');
    try {
      const client = new Client({ name: 'f', version: '1' });
      const transport = new StreamableHTTPClientTransport(new URL(up.url));
      // initialize itself is a request, so it fails: faults hit every JSON-RPC request POST.
      await expect(client.connect(transport)).rejects.toThrow();
      const get = await fetch(up.url, { headers: { accept: 'text/event-stream' } });
      expect(get.status).toBe(400); // the normal "no session" answer, not the fault
      await get.body?.cancel();
    } finally {
      up.setFault(null);
    }
  });

  it('rejects unknown faults and bad counts with TypeErrors', () => {
    expect(() => up.setFault('explode' as UpstreamFault)).toThrow(TypeError);
    expect(() => up.setFault('http-500', { count: 0 })).toThrow(new TypeError('"count" must be at least 1'));
  });
});

describe('McpUpstream.close', () => {
  it('ends sessions, streams, parked tools and stalled requests, then refuses connections', async () => {
    const up = await startMcpUpstream();
    const streamable = new Client({ name: 's', version: '1' });
    await streamable.connect(new StreamableHTTPClientTransport(new URL(up.url)));
    const legacy = new Client({ name: 'l', version: '1' });
    await legacy.connect(new SSEClientTransport(new URL(up.sseUrl)));
    expect(up.sessionCount).toBe(2);

    const parked = streamable.callTool({ name: 'progress', arguments: { steps: 2, latch: 'never' } });
    parked.catch(() => undefined);
    await up.latch('never').reached;
    up.setFault('stall-headers');
    const stalled = rpcPost(up.url, 1);
    stalled.catch(() => undefined);

    await up.close();
    expect(up.sessionCount).toBe(0);
    await expect(fetch(up.url)).rejects.toThrow();
    await expect(stalled).rejects.toThrow();
    await up.close(); // idempotent
    await Promise.allSettled([streamable.close(), legacy.close()]);
  });

  it('can be restarted on the same port', async () => {
    const first = await startMcpUpstream();
    const port = first.port;
    await first.close();
    const second = await startMcpUpstream({ port });
    try {
      expect(second.url).toBe(first.url);
      const client = new Client({ name: 'r', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(second.url)));
      await expect(client.ping()).resolves.toEqual({});
      await client.close();
    } finally {
      await second.close();
    }
  });
});

describe('freePort', () => {
  it('returns a port nothing listens on', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(port).toBeLessThan(65536);
    await expect(fetch(`http://127.0.0.1:${port}/mcp`)).rejects.toThrow();
  });
});
