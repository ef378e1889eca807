import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type McpUpstream, startMcpUpstream } from '@bastion-mcp/testkit';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolResultSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { channels, type ProxyServer, type SseStreamMessage, startProxyServer } from '../../src/index.js';
import { connectClient, initializeBody, post, until } from '../helpers.js';

let upstream: McpUpstream;
let proxy: ProxyServer;
let proxyB: ProxyServer;
const servers: McpServer[] = [];

beforeAll(async () => {
  upstream = await startMcpUpstream({ configure: (server) => servers.push(server) });
  proxy = await startProxyServer({ upstreamUrl: upstream.url });
  proxyB = await startProxyServer({ upstreamUrl: upstream.url });
});

afterAll(async () => {
  await proxy.close({ graceMs: 100 });
  await proxyB.close({ graceMs: 100 });
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

describe('streaming and session lifecycle', () => {
  it('relays progress notifications incrementally (the upstream waits for a latch released on the first event)', async () => {
    const { client } = await connectClient(proxy.url);
    const latch = upstream.latch('progress-incremental');
    const progress: number[] = [];
    try {
      const result = await client.callTool(
        { name: 'progress', arguments: { steps: 3, latch: 'progress-incremental' } },
        CallToolResultSchema,
        {
          onprogress: (p) => {
            progress.push(p.progress);
            // Only an incrementally relayed first event can open the latch the upstream waits on.
            latch.release();
          },
          timeout: 15_000,
        },
      );
      expect(result.content).toEqual([{ type: 'text', text: 'completed 3 steps' }]);
      expect(progress).toEqual([1, 2, 3]);
    } finally {
      await client.close();
    }
  });

  it('relays the GET stream: a server notification reaches the client', async () => {
    const opened: SseStreamMessage[] = [];
    const onSse = (m: unknown) => opened.push(m as SseStreamMessage);
    channels.sseStream.subscribe(onSse);
    const before = servers.length;
    const { client } = await connectClient(proxy.url);
    try {
      let notified = false;
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
        notified = true;
      });
      await until(
        () => upstream.requests.some((r) => r.method === 'GET' && r.headers['mcp-session-id'] !== undefined),
        'GET stream',
      );
      await until(
        () => opened.some((m) => m.state === 'open' && m.exchange.request.method === 'GET'),
        'GET relayed',
      );
      const server = servers[before];
      expect(server).toBeDefined();
      server!.sendToolListChanged();
      await until(() => notified, 'tools/list_changed notification');
    } finally {
      channels.sseStream.unsubscribe(onSse);
      await client.close();
    }
  });

  it('forwards DELETE: the session ends upstream and later requests get the upstream 404', async () => {
    const { client, transport } = await connectClient(proxy.url);
    const sid = transport.sessionId;
    expect(sid).toBeDefined();
    await transport.terminateSession();
    const del = upstream.requests.find((r) => r.method === 'DELETE' && r.headers['mcp-session-id'] === sid);
    expect(del).toBeDefined();
    const after = await post(
      proxy.url,
      { jsonrpc: '2.0', id: 5, method: 'tools/list' },
      {
        'mcp-session-id': String(sid),
        'mcp-protocol-version': '2025-06-18',
      },
    );
    expect(after.status).toBe(404);
    await client.close();
  });

  it('serves one session through two proxy instances alternately (stateless)', async () => {
    const targets = [proxy.url, proxyB.url];
    const used: string[] = [];
    let n = 0;
    const alternating = (_input: string | URL | Request, init?: RequestInit) => {
      const target = targets[n++ % 2]!;
      used.push(new URL(target).origin);
      return fetch(target, init);
    };
    const client = new Client({ name: 'alternating', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(proxy.url), {
      fetch: alternating as typeof fetch,
      reconnectionOptions: {
        maxReconnectionDelay: 1000,
        initialReconnectionDelay: 1000,
        reconnectionDelayGrowFactor: 1,
        maxRetries: 0,
      },
    });
    await client.connect(transport);
    try {
      for (let i = 0; i < 4; i++) {
        const r = await client.callTool({ name: 'add', arguments: { a: i, b: 1 } }, CallToolResultSchema);
        expect(r.structuredContent).toEqual({ sum: i + 1 });
      }
      expect(new Set(used).size).toBe(2);
      const sessions = new Set(
        upstream.requests
          .filter((r) => r.method === 'POST')
          .map((r) => r.headers['mcp-session-id'])
          .filter(Boolean),
      );
      expect(sessions.has(transport.sessionId)).toBe(true);
    } finally {
      await client.close();
    }
  });
});
