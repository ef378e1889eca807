import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type McpUpstream, startMcpUpstream } from '@bastion-mcp/testkit';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { type ProxyServer, startProxyServer } from '../../src/index.js';
import { connectClient, initializeBody, post } from '../helpers.js';

let upstream: McpUpstream;
let proxy: ProxyServer;

beforeAll(async () => {
  upstream = await startMcpUpstream();
  proxy = await startProxyServer({ upstreamUrl: upstream.url });
});

afterAll(async () => {
  await proxy.close({ graceMs: 100 });
  await upstream.close();
});

describe('streamable HTTP through the proxy (real SDK client and server)', () => {
  it('initializes, lists and calls tools', async () => {
    const { client } = await connectClient(proxy.url);
    try {
      expect(client.getServerVersion()?.name).toBe('bastion-test-upstream');
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name)).toContain('echo');
      const result = await client.callTool({ name: 'echo', arguments: { text: 'hi' } }, CallToolResultSchema);
      expect(result.content).toEqual([{ type: 'text', text: 'hi' }]);
    } finally {
      await client.close();
    }
  });

  it('passes Mcp-Session-Id through both ways', async () => {
    const init = await post(proxy.url, initializeBody());
    expect(init.status).toBe(200);
    const sid = init.headers['mcp-session-id'];
    expect(typeof sid).toBe('string');
    upstream.clearRequests();
    const res = await post(
      proxy.url,
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      {
        'mcp-session-id': String(sid),
        'mcp-protocol-version': '2025-06-18',
      },
    );
    expect(res.status).toBe(202);
    const seen = upstream.requests.at(-1);
    expect(seen?.headers['mcp-session-id']).toBe(sid);
    expect(seen?.headers['mcp-protocol-version']).toBe('2025-06-18');
  });
});
