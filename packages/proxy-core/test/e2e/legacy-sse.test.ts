import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type McpUpstream, startMcpUpstream } from '@bastion-mcp/testkit';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { type ProxyServer, startProxyServer } from '../../src/index.js';
import { request } from 'undici';
import { SseParser, type SseEvent } from '../../src/index.js';
import { connectSseClient, initializeBody } from '../helpers.js';

let upstream: McpUpstream;
let proxyA: ProxyServer;
let proxyB: ProxyServer;

beforeAll(async () => {
  upstream = await startMcpUpstream({ basePath: '/api/v1' });
  proxyA = await startProxyServer({ upstreamUrl: upstream.sseUrl, transport: 'sse' });
  proxyB = await startProxyServer({ upstreamUrl: upstream.sseUrl, transport: 'sse' });
});

afterAll(async () => {
  await Promise.all([proxyA.close({ graceMs: 100 }), proxyB.close({ graceMs: 100 })]);
  await upstream.close();
});

describe('legacy HTTP+SSE through the proxy', () => {
  it('rewrites the endpoint event of a pathed remote URL so posts come back through the proxy', async () => {
    expect(upstream.sseUrl).toMatch(/\/api\/v1\/sse$/);
    const { client, transport } = await connectSseClient(proxyA.url);
    try {
      const result = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } }, CallToolResultSchema);
      expect(result.structuredContent).toEqual({ sum: 5 });
      const posts = upstream.requests.filter((r) => r.method === 'POST');
      expect(posts.length).toBeGreaterThan(0);
      expect(posts.every((r) => r.path.startsWith('/api/v1/messages'))).toBe(true);
      // The client was told a proxy-local endpoint, not the upstream's.
      const endpoint = (transport as unknown as { _endpoint?: URL })._endpoint;
      expect(endpoint?.origin).toBe(proxyA.origin);
      expect(endpoint?.pathname).toBe('/messages');
    } finally {
      await client.close();
    }
  });

  it('serves one legacy session through two proxy instances (stream on A, posts on B)', async () => {
    const stream = await request(proxyA.url, { headers: { accept: 'text/event-stream' } });
    const parser = new SseParser();
    const iterator = stream.body[Symbol.asyncIterator]();
    const nextEvent = async (): Promise<SseEvent> => {
      const pending: SseEvent[] = [];
      while (pending.length === 0) {
        const { value, done } = await iterator.next();
        if (done) throw new Error('stream ended');
        pending.push(...parser.push(value as Buffer));
      }
      if (pending.length > 1) throw new Error('test expects one event per read');
      return pending[0]!;
    };
    const endpoint = await nextEvent();
    expect(endpoint.event).toBe('endpoint');
    expect(endpoint.data).toMatch(/^\/messages\?sessionId=/);
    const posted = await request(`${proxyB.origin}${endpoint.data}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(initializeBody(77)),
    });
    expect(posted.statusCode).toBe(202);
    await posted.body.dump();
    const answer = await nextEvent();
    expect(JSON.parse(answer.data)).toMatchObject({
      jsonrpc: '2.0',
      id: 77,
      result: { serverInfo: { name: 'bastion-test-upstream' } },
    });
    stream.body.destroy();
  });

  it('refuses message posts whose path would escape the remote directory', async () => {
    const res = await request(`${proxyA.origin}/%2e%2e/admin?sessionId=x`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(initializeBody(1)),
    });
    expect(res.statusCode).toBe(404);
    await res.body.dump();
  });
});
