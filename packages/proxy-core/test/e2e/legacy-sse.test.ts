import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type McpUpstream, startMcpUpstream } from '@bastion-mcp/testkit';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { type ProxyServer, startProxyServer } from '../../src/index.js';
import { connectSseClient } from '../helpers.js';

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
});
