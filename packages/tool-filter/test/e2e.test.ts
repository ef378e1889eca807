/**
 * End to end: a real MCP SDK client → proxy-core server with the tool-filter → the testkit MCP upstream
 * (a real SDK server), once answering with SSE streams and once with JSON bodies.
 */
import { startProxyServer } from '@bastion-mcp/proxy-core';
import type { ProxyServer } from '@bastion-mcp/proxy-core';
import { startMcpUpstream } from '@bastion-mcp/testkit';
import type { McpUpstream } from '@bastion-mcp/testkit';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { createToolFilterMiddleware } from '../src/middleware.js';

const filterOptions = {
  filter: ['echo', 'sum', 'weather', 'fail'],
  overrides: {
    add: { name: 'sum', description: 'Adds two numbers' },
    get_weather: { name: 'weather', annotations: { title: 'Weather' } },
  },
};

async function allTools(client: Client): Promise<{ tools: Tool[]; pages: number }> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor });
    pages++;
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor !== undefined && pages < 50);
  return { tools, pages };
}

describe.each([
  ['SSE-framed', false],
  ['JSON', true],
])('tool-filter end to end (%s upstream answers)', (_label, jsonResponse) => {
  let up: McpUpstream;
  let proxy: ProxyServer;
  let client: Client;
  let transport: StreamableHTTPClientTransport;

  beforeAll(async () => {
    up = await startMcpUpstream({ pageSize: 3, jsonResponse });
    proxy = await startProxyServer({
      upstreamUrl: up.url,
      serverName: 'demo',
      middlewares: [createToolFilterMiddleware(filterOptions)],
    });
    client = new Client({ name: 'e2e', version: '1.0.0' });
    transport = new StreamableHTTPClientTransport(new URL(proxy.url));
    await client.connect(transport);
  });

  afterAll(async () => {
    await client?.close();
    await proxy?.close();
    await up?.close();
  });

  it('the client sees only the allowed tools, renamed, across every page (nextCursor kept)', async () => {
    const { tools, pages } = await allTools(client);
    expect(pages).toBeGreaterThan(1); // 9 upstream tools in pages of 3: pagination went through the filter
    expect(tools.map((t) => t.name).sort()).toEqual(['echo', 'fail', 'sum', 'weather']);
    const sum = tools.find((t) => t.name === 'sum');
    expect(sum?.description).toBe('Adds two numbers');
    expect(sum?.inputSchema.properties).toHaveProperty('a'); // other fields kept
    const weather = tools.find((t) => t.name === 'weather');
    expect(weather?.annotations).toMatchObject({ title: 'Weather', readOnlyHint: true }); // merged
  });

  it('calls a renamed tool by its new name; the upstream gets the real name', async () => {
    up.clearRequests();
    const result = await client.callTool({ name: 'sum', arguments: { a: 2, b: 3 } });
    expect(JSON.stringify(result.content)).toContain('5');
    const calls = up.rpcRequests('tools/call');
    expect(calls).toHaveLength(1);
    const body = calls[0]?.body as { params: { name: string; arguments: unknown } } | undefined;
    expect(body?.params).toEqual({
      name: 'add',
      arguments: { a: 2, b: 3 },
    });
  });

  it('answers -32602 for filtered, hidden (real name of a renamed tool) and unknown tools without contacting the upstream', async () => {
    up.clearRequests();
    for (const name of ['delete_repo', 'add', 'get_weather', 'no_such_tool']) {
      await expect(client.callTool({ name, arguments: {} })).rejects.toMatchObject({ code: -32602 });
    }
    expect(up.rpcRequests('tools/call')).toHaveLength(0);
    // allowed tools still work afterwards
    const echo = await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
    expect(JSON.stringify(echo.content)).toContain('hi');
  });

  it('answers a refused call as JSON, same shape, whether the client accepts SSE or only JSON', async () => {
    up.clearRequests();
    const sessionId = transport.sessionId;
    const bodies: unknown[] = [];
    for (const accept of ['application/json, text/event-stream', 'text/event-stream']) {
      const res = await fetch(proxy.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept,
          'mcp-protocol-version': '2025-06-18',
          ...(sessionId ? { 'mcp-session-id': sessionId } : {}),
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 7,
          method: 'tools/call',
          params: { name: 'delete_repo', arguments: {} },
        }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      bodies.push(await res.json());
    }
    expect(bodies).toEqual([
      { jsonrpc: '2.0', id: 7, error: { code: -32602, message: 'tool not found' } },
      { jsonrpc: '2.0', id: 7, error: { code: -32602, message: 'tool not found' } },
    ]);
    expect(up.requests).toHaveLength(0);
  });

  it('rewrites the Mcp-Name header with the body and refuses a header that disagrees', async () => {
    const sessionId = transport.sessionId;
    const post = (mcpName: string) =>
      fetch(proxy.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-06-18',
          'mcp-method': 'tools/call',
          'mcp-name': mcpName,
          ...(sessionId ? { 'mcp-session-id': sessionId } : {}),
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 8,
          method: 'tools/call',
          params: { name: 'sum', arguments: { a: 1, b: 1 } },
        }),
      });
    up.clearRequests();
    const ok = await post('sum');
    expect(ok.status).toBe(200);
    await ok.text();
    expect(up.rpcRequests('tools/call')[0]?.headers['mcp-name']).toBe('add');

    up.clearRequests();
    const bad = await post('echo');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ id: 8, error: { code: -32020 } });
    expect(up.requests).toHaveLength(0);
  });

  it('keeps Content-Length consistent with the rewritten body', async () => {
    const sessionId = transport.sessionId;
    const res = await fetch(proxy.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-06-18',
        ...(sessionId ? { 'mcp-session-id': sessionId } : {}),
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list', params: {} }),
    });
    const raw = Buffer.from(await res.arrayBuffer());
    const length = res.headers.get('content-length');
    if (length !== null) expect(Number(length)).toBe(raw.length);
    const text = raw.toString('utf8');
    expect(text).toContain('"nextCursor"');
    expect(text).not.toContain('"add"');
    if (!jsonResponse) expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  });
});
