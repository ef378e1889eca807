/**
 * Legacy HTTP+SSE (2024-11-05): answers travel on the GET /sse stream, not on the POST. A real SDK
 * SSE client through proxy-core (transport 'sse') must still see only the allowed, renamed tools.
 */
import { startProxyServer } from '@bastion-mcp/proxy-core';
import type { ProxyServer } from '@bastion-mcp/proxy-core';
import { startMcpUpstream } from '@bastion-mcp/testkit';
import type { McpUpstream } from '@bastion-mcp/testkit';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { createToolFilterMiddleware } from '../src/middleware.js';

let up: McpUpstream;
let proxy: ProxyServer;
let client: Client;

beforeAll(async () => {
  up = await startMcpUpstream();
  proxy = await startProxyServer({
    upstreamUrl: up.sseUrl,
    transport: 'sse',
    middlewares: [
      createToolFilterMiddleware({ filter: ['echo', 'sum'], overrides: { add: { name: 'sum' } } }),
    ],
  });
  client = new Client({ name: 'legacy', version: '1.0.0' });
  await client.connect(new SSEClientTransport(new URL(proxy.url)));
});

afterAll(async () => {
  await client?.close();
  await proxy?.close();
  await up?.close();
});

describe('tool-filter over legacy HTTP+SSE', () => {
  it('filters and renames the tools/list answer delivered on the GET stream', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['echo', 'sum']);
  });

  it('rewrites a renamed call on the POST; the upstream gets the real name', async () => {
    up.clearRequests();
    const result = await client.callTool({ name: 'sum', arguments: { a: 20, b: 22 } });
    expect(JSON.stringify(result.content)).toContain('42');
    const body = up.rpcRequests('tools/call')[0]?.body as { params?: { name?: string } } | undefined;
    expect(body?.params?.name).toBe('add');
  });
});
