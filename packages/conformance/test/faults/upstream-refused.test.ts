/** Upstream refuses connections: 502 JSON-RPC error echoing the id; served again once it is back. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort, type McpUpstream, startMcpUpstream } from '@bastion-mcp/testkit';
import { Agent } from 'undici';
import { post, rpc } from '../helpers/http.js';
import { leakedSince, resources } from '../helpers/leaks.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';

describe('upstream refuses connections', () => {
  let port: number;
  let proxies: TestProxy[];
  let upstream: McpUpstream | undefined;

  beforeAll(async () => {
    port = await freePort();
    proxies = [
      await startTestProxy(`http://127.0.0.1:${port}/mcp`),
      await startTestProxy(`http://127.0.0.1:${port}/mcp`, { chain: 'full' }),
    ];
  });
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    await upstream?.close();
  });

  it('answers 502 with a JSON-RPC error, then serves again when the upstream is back, leaking nothing', async () => {
    const baseline = resources();
    const agent = new Agent();
    for (const p of proxies) {
      for (const id of [1, 'req-2']) {
        const a = await post(p.url, rpc('tools/list', {}, id), { dispatcher: agent });
        expect(a.status).toBe(502);
        expect(a.headers['content-type']).toMatch(/^application\/json/);
        expect(a.json).toEqual({
          jsonrpc: '2.0',
          id,
          error: { code: -32603, message: 'Upstream MCP server unreachable' },
        });
      }
      const health = await agent.request({ origin: p.proxy.origin, path: '/health', method: 'GET' });
      expect(health.statusCode).toBe(200);
      await health.body.dump();
    }
    upstream = await startMcpUpstream({ port, stateless: true });
    for (const p of proxies) {
      const a = await post(p.url, rpc('tools/call', { name: 'echo', arguments: { text: 'back' } }, 3), {
        dispatcher: agent,
      });
      expect(a.status).toBe(200);
      expect(a.text).toContain('"text":"back"');
    }
    await agent.close();
    await upstream.close();
    upstream = undefined;
    expect(await leakedSince(baseline)).toEqual({});
  });
});
