/**
 * Upstream transport edge cases: a 10 MB tool answer (relayed intact through the full chain, memory
 * bounded afterwards) and an upstream that closes every keep-alive socket between requests.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { defineTool, type McpUpstream, startMcpUpstream, textResult } from '@bastion-mcp/testkit';
import { Agent } from 'undici';
import { answerJson, post, type RawServer, rpc, startRawServer } from '../helpers/http.js';
import { heapUsed, leakedSince, resources } from '../helpers/leaks.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';

const TEN_MB = 10 * 1024 * 1024;

describe('10 MB upstream response through the full chain', () => {
  let upstream: McpUpstream;
  let proxy: TestProxy;

  beforeAll(async () => {
    upstream = await startMcpUpstream({
      stateless: true,
      jsonResponse: true,
      tools: [
        defineTool({
          name: 'big',
          description: 'returns 10 MB of text',
          inputSchema: { type: 'object', properties: {} },
          handler: async () => textResult('x'.repeat(TEN_MB)),
        }),
      ],
    });
    proxy = await startTestProxy(upstream.url, { chain: 'full' });
  });
  afterAll(async () => {
    await proxy.close();
    await upstream.close();
  });

  it('relays it intact, then memory returns near where it was and nothing leaks', async () => {
    const agent = new Agent();
    const call = rpc('tools/call', { name: 'big', arguments: {} }, 9);
    // Warm-up: first call loads lazily-created structures so the heap comparison measures steady state.
    expect((await post(proxy.url, call, { dispatcher: agent })).status).toBe(200);
    const baseline = resources();
    const heapBefore = heapUsed();
    for (let i = 0; i < 3; i++) {
      const a = await post(proxy.url, call, { dispatcher: agent });
      expect(a.status).toBe(200);
      const result = (a.json as { id: number; result: { content: Array<{ text: string }> } }).result;
      expect((a.json as { id: number }).id).toBe(9);
      expect(result.content[0]!.text.length).toBe(TEN_MB);
    }
    const small = await post(
      proxy.url,
      rpc('tools/call', { name: 'echo', arguments: { text: 'tiny' } }, 10),
      {
        dispatcher: agent,
      },
    );
    expect(small.text).toContain('tiny');
    await agent.close();
    // 3 × 10 MB went through: retained growth must stay far below one response.
    expect(heapUsed() - heapBefore).toBeLessThan(TEN_MB / 2);
    expect(await leakedSince(baseline)).toEqual({});
  });
});

describe('upstream closes keep-alive sockets between requests', () => {
  let upstream: RawServer;
  let proxy: TestProxy;

  beforeAll(async () => {
    upstream = await startRawServer((req, res) => {
      void answerJson(req, res, { tools: [] });
    });
    // Advertises keep-alive, then drops every idle socket right away (a load balancer with a tiny idle timeout).
    upstream.server.keepAliveTimeout = 1;
    proxy = await startTestProxy(upstream.url, { upstream: { keepAliveTimeoutMs: 60_000 } });
  });
  afterAll(async () => {
    await proxy.close();
    await upstream.close();
  });

  it('serves every request (a fresh connection each time) and leaks nothing', async () => {
    const baseline = resources();
    const agent = new Agent();
    for (let i = 0; i < 20; i++) {
      const a = await post(proxy.url, rpc('tools/list', {}, i), { dispatcher: agent });
      expect(a.status).toBe(200);
      expect(a.json).toEqual({ jsonrpc: '2.0', id: i, result: { tools: [] } });
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    // The upstream really closed sockets: far more connections than one reused keep-alive socket.
    expect(upstream.connections).toBeGreaterThan(10);
    await agent.close();
    expect(await leakedSince(baseline)).toEqual({});
  });
});
