import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  McpError,
  type Progress,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import {
  defineTool,
  FAIL_TOOL_MESSAGE,
  type McpUpstream,
  README_TEXT,
  SECRET_TEXT,
  startMcpUpstream,
  textResult,
  THROW_TOOL_MESSAGE,
  type UpstreamTool,
} from '../src/mcp/index.js';

const BUILTIN_TOOLS = [
  'echo',
  'add',
  'progress',
  'sample',
  'elicit',
  'fail',
  'throw',
  'delete_repo',
  'get_weather',
];

const INITIALIZE_PARAMS = {
  protocolVersion: '2025-06-18',
  capabilities: {},
  clientInfo: { name: 'raw', version: '1.0.0' },
};

const openClients: Client[] = [];

async function connect(
  url: string,
  options: { headers?: Record<string, string>; capabilities?: Client['_capabilities'] } = {},
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client(
    { name: 'testkit-test', version: '1.0.0' },
    { capabilities: options.capabilities ?? {} },
  );
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: options.headers ?? {} },
  });
  await client.connect(transport);
  openClients.push(client);
  return { client, transport };
}

afterEach(async () => {
  await Promise.allSettled(openClients.splice(0).map((client) => client.close()));
});

function text(result: unknown): string {
  const content = (result as { content: Array<{ type: string; text?: string }> }).content;
  return content.map((item) => item.text ?? '').join('');
}

describe('startMcpUpstream (streamable HTTP, stateful)', () => {
  let up: McpUpstream;

  beforeAll(async () => {
    up = await startMcpUpstream();
  });
  afterAll(async () => {
    await up.close();
  });

  it('exposes its addresses on 127.0.0.1', () => {
    expect(up.origin).toBe(`http://127.0.0.1:${up.port}`);
    expect(up.url).toBe(`${up.origin}/mcp`);
    expect(up.sseUrl).toBe(`${up.origin}/sse`);
    expect(up.port).toBeGreaterThan(0);
  });

  it('lists the built-in tools with their annotations', async () => {
    const { client } = await connect(up.url);
    const { tools, nextCursor } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(BUILTIN_TOOLS);
    expect(nextCursor).toBeUndefined();
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    expect(byName.get('delete_repo')?.annotations?.destructiveHint).toBe(true);
    expect(byName.get('get_weather')?.annotations?.readOnlyHint).toBe(true);
    expect(byName.get('echo')?.inputSchema).toMatchObject({
      type: 'object',
      properties: { text: { type: 'string' } },
      required: ['text'],
    });
    expect(byName.get('add')?.inputSchema.properties).toMatchObject({
      a: { type: 'integer' },
      b: { type: 'integer' },
    });
  });

  it('reports its server info and capabilities', async () => {
    const { client } = await connect(up.url);
    expect(client.getServerVersion()).toEqual({ name: 'bastion-test-upstream', version: '1.0.0' });
    expect(client.getServerCapabilities()).toMatchObject({ tools: {}, prompts: {}, resources: {} });
  });

  it('echoes text and adds integers', async () => {
    const { client } = await connect(up.url);
    expect(text(await client.callTool({ name: 'echo', arguments: { text: 'héllo' } }))).toBe('héllo');
    const sum = await client.callTool({ name: 'add', arguments: { a: 40, b: 2 } });
    expect(text(sum)).toBe('42');
    expect(sum.structuredContent).toEqual({ sum: 42 });
  });

  it('answers invalid arguments with an isError result naming the tool', async () => {
    const { client } = await connect(up.url);
    const result = await client.callTool({ name: 'add', arguments: { a: 1.5, b: 2 } });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain('Input validation error');
    expect(text(result)).toContain('add');
  });

  it('returns an isError result from fail and a JSON-RPC error from throw', async () => {
    const { client } = await connect(up.url);
    const failed = await client.callTool({ name: 'fail', arguments: {} });
    expect(failed).toMatchObject({ isError: true, content: [{ type: 'text', text: FAIL_TOOL_MESSAGE }] });
    const thrown = await client.callTool({ name: 'throw', arguments: {} }).catch((error: unknown) => error);
    expect(thrown).toBeInstanceOf(McpError);
    expect((thrown as McpError).code).toBe(-32603);
    expect((thrown as McpError).message).toContain(THROW_TOOL_MESSAGE);
  });

  it('answers an unknown tool with JSON-RPC error -32602', async () => {
    const { client } = await connect(up.url);
    const error = await client.callTool({ name: 'nope', arguments: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).code).toBe(-32602);
  });

  it('serves delete_repo and get_weather', async () => {
    const { client } = await connect(up.url);
    expect(text(await client.callTool({ name: 'delete_repo', arguments: { name: 'infra' } }))).toBe(
      'deleted infra',
    );
    expect(text(await client.callTool({ name: 'get_weather', arguments: { city: 'Oslo' } }))).toContain(
      'Oslo',
    );
  });

  it('serves the greeting prompt', async () => {
    const { client } = await connect(up.url);
    const { prompts } = await client.listPrompts();
    expect(prompts.map((prompt) => prompt.name)).toEqual(['greeting']);
    expect(prompts[0]?.arguments).toEqual([expect.objectContaining({ name: 'name', required: true })]);
    const prompt = await client.getPrompt({ name: 'greeting', arguments: { name: 'Ada' } });
    expect(prompt.messages).toEqual([{ role: 'user', content: { type: 'text', text: 'Hello, Ada!' } }]);
  });

  it('serves the demo resources', async () => {
    const { client } = await connect(up.url);
    const { resources } = await client.listResources();
    expect(resources.map((resource) => resource.uri).sort()).toEqual(['demo://readme', 'demo://secret']);
    const readme = await client.readResource({ uri: 'demo://readme' });
    expect(readme.contents).toEqual([{ uri: 'demo://readme', mimeType: 'text/markdown', text: README_TEXT }]);
    const secret = await client.readResource({ uri: 'demo://secret' });
    expect(secret.contents[0]).toMatchObject({ text: SECRET_TEXT });
  });

  it('streams progress incrementally, waiting on the latch between steps', async () => {
    const { client } = await connect(up.url);
    const latch = up.latch('progress-incremental');
    const seen: Array<{ progress: number; releasedWhenSeen: boolean }> = [];
    const result = await client.callTool(
      { name: 'progress', arguments: { steps: 3, latch: latch.name } },
      undefined,
      {
        onprogress: (progress: Progress) => {
          seen.push({ progress: progress.progress, releasedWhenSeen: latch.released });
          // The tool is parked on the latch after step 1: releasing only now proves step 1 was
          // delivered before the handler finished.
          if (progress.progress === 1) latch.release();
        },
      },
    );
    expect(text(result)).toBe('completed 3 steps');
    expect(seen).toEqual([
      { progress: 1, releasedWhenSeen: false },
      { progress: 2, releasedWhenSeen: true },
      { progress: 3, releasedWhenSeen: true },
    ]);
  });

  it('waits on one latch per step with perStep', async () => {
    const { client } = await connect(up.url);
    const seen: number[] = [];
    const call = client.callTool(
      { name: 'progress', arguments: { steps: 3, latch: 'ps', perStep: true } },
      undefined,
      {
        onprogress: (progress: Progress) => {
          seen.push(progress.progress);
        },
      },
    );
    await up.latch('ps:1').reached;
    up.latch('ps:1').release();
    await up.latch('ps:2').reached;
    // Step 3 cannot have been sent while the handler waits on ps:2.
    expect(up.latch('ps:2').released).toBe(false);
    up.latch('ps:2').release();
    expect(text(await call)).toBe('completed 3 steps');
    expect(seen).toEqual([1, 2, 3]);
  });

  it('relays sampling/createMessage to the client and returns its answer', async () => {
    const { client } = await connect(up.url, { capabilities: { sampling: {} } });
    const prompts: string[] = [];
    client.setRequestHandler(CreateMessageRequestSchema, (request) => {
      const content = request.params.messages[0]?.content;
      const prompt = content !== undefined && 'text' in content ? String(content.text) : '';
      prompts.push(prompt);
      return {
        model: 'test-model',
        role: 'assistant',
        content: { type: 'text', text: `answer to ${prompt}` },
      };
    });
    const result = await client.callTool({ name: 'sample', arguments: { prompt: 'what is 6x7?' } });
    expect(text(result)).toBe('answer to what is 6x7?');
    expect(prompts).toEqual(['what is 6x7?']);
  });

  it('relays elicitation/create to the client and returns its reply', async () => {
    const { client } = await connect(up.url, { capabilities: { elicitation: { form: {} } } });
    client.setRequestHandler(ElicitRequestSchema, (request) => {
      expect(request.params.message).toBe('Proceed?');
      return { action: 'accept', content: { answer: 'yes' } };
    });
    const result = await client.callTool({ name: 'elicit', arguments: { message: 'Proceed?' } });
    expect(JSON.parse(text(result))).toEqual({ action: 'accept', content: { answer: 'yes' } });
    expect(result.structuredContent).toEqual({ action: 'accept', content: { answer: 'yes' } });
  });

  it('records every request with lower-cased headers, parsed body and status', async () => {
    up.clearRequests();
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const { client, transport } = await connect(`${up.url}?tenant=acme`, {
      headers: { traceparent, 'X-Custom-Header': 'Value-1', Authorization: 'Bearer upstream-token' },
    });
    await client.callTool({ name: 'echo', arguments: { text: 'recorded' } });

    const [init] = up.rpcRequests('initialize');
    expect(init).toMatchObject({ method: 'POST', path: '/mcp', query: { tenant: 'acme' }, status: 200 });
    expect(init?.url).toBe('/mcp?tenant=acme');
    const [call] = up.rpcRequests('tools/call');
    expect(call?.headers).toMatchObject({
      traceparent,
      'x-custom-header': 'Value-1',
      authorization: 'Bearer upstream-token',
      'mcp-session-id': transport.sessionId,
    });
    expect(call?.headers['mcp-protocol-version']).toEqual(expect.any(String));
    expect(call?.body).toMatchObject({
      jsonrpc: '2.0',
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'recorded' } },
    });
    expect(JSON.parse(call?.rawBody ?? '')).toEqual(call?.body);
    expect(up.rpcRequests().every((r) => r.rpcMethod !== 'notifications/initialized')).toBe(true);
    expect(up.requests.some((r) => r.rpcMethod === 'notifications/initialized')).toBe(true);

    up.clearRequests();
    expect(up.requests).toHaveLength(0);
  });

  it('opens a GET stream for a session and ends the session on DELETE', async () => {
    const post = (body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(up.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...headers,
        },
        body: JSON.stringify(body),
      });
    const before = up.sessionCount;
    const init = await post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: INITIALIZE_PARAMS });
    expect(init.status).toBe(200);
    await init.body?.cancel();
    const sessionId = init.headers.get('mcp-session-id') ?? '';
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(up.sessionCount).toBe(before + 1);
    const headers = { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' };
    const initialized = await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, headers);
    expect(initialized.status).toBe(202);

    const stream = await fetch(up.url, { headers: { ...headers, accept: 'text/event-stream' } });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    const second = await fetch(up.url, { headers: { ...headers, accept: 'text/event-stream' } });
    expect(second.status).toBe(409); // one standalone stream per session
    await second.body?.cancel();
    await stream.body?.cancel();

    const deleted = await fetch(up.url, { method: 'DELETE', headers });
    expect(deleted.status).toBe(200);
    expect(up.sessionCount).toBe(before);

    const after = await post({ jsonrpc: '2.0', id: 7, method: 'ping' }, headers);
    expect(after.status).toBe(404);
    expect(await after.json()).toEqual({
      jsonrpc: '2.0',
      error: { code: -32001, message: 'Session not found' },
      id: 7,
    });
  });

  it('ends a session when the SDK client terminates it', async () => {
    const { transport } = await connect(up.url);
    const sessionId = transport.sessionId;
    const before = up.sessionCount;
    await transport.terminateSession();
    expect(up.sessionCount).toBe(before - 1);
    const deletes = up.requests.filter(
      (r) => r.method === 'DELETE' && r.headers['mcp-session-id'] === sessionId,
    );
    expect(deletes.map((r) => r.status)).toEqual([200]);
  });

  it('rejects a non-initialize POST without a session id with 400', async () => {
    const response = await fetch(up.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: -32000 } });
  });

  it('answers malformed JSON with 400 / -32700 and records the raw body', async () => {
    up.clearRequests();
    const response = await fetch(up.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{"jsonrpc":',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      jsonrpc: '2.0',
      error: { code: -32700, message: 'Parse error' },
      id: null,
    });
    expect(up.requests[0]).toMatchObject({ rawBody: '{"jsonrpc":', body: undefined, rpcMethod: undefined });
  });

  it('answers unknown paths with 404', async () => {
    const response = await fetch(`${up.origin}/other`);
    expect(response.status).toBe(404);
    await response.body?.cancel();
  });
});

describe('startMcpUpstream pagination', () => {
  let up: McpUpstream;

  beforeAll(async () => {
    up = await startMcpUpstream({ pageSize: 4 });
  });
  afterAll(async () => {
    await up.close();
  });

  it('pages tools/list with opaque cursors until every tool was listed', async () => {
    const { client } = await connect(up.url);
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor });
      pages.push(page.tools.map((tool) => tool.name));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(pages).toEqual([BUILTIN_TOOLS.slice(0, 4), BUILTIN_TOOLS.slice(4, 8), BUILTIN_TOOLS.slice(8)]);
    expect(
      up.rpcRequests('tools/list').map((r) => (r.body as { params?: { cursor?: string } }).params?.cursor),
    ).toEqual([undefined, expect.any(String), expect.any(String)]);
  });

  it('rejects a forged cursor with -32602', async () => {
    const { client } = await connect(up.url);
    const error = await client.listTools({ cursor: 'bm90LWEtY3Vyc29y' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).code).toBe(-32602);
  });
});

describe('startMcpUpstream stateless and JSON modes', () => {
  it('serves without sessions when stateless and refuses GET with 405', async () => {
    const up = await startMcpUpstream({ stateless: true });
    try {
      const { client, transport } = await connect(up.url);
      expect(text(await client.callTool({ name: 'echo', arguments: { text: 'a' } }))).toBe('a');
      expect(text(await client.callTool({ name: 'add', arguments: { a: 1, b: 2 } }))).toBe('3');
      expect(transport.sessionId).toBeUndefined();
      expect(up.requests.every((r) => r.headers['mcp-session-id'] === undefined)).toBe(true);
      const get = await fetch(up.url, { headers: { accept: 'text/event-stream' } });
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('POST');
      await get.body?.cancel();
      await client.close();
      expect(up.sessionCount).toBe(0);
    } finally {
      await up.close();
    }
  });

  it('answers POSTs with application/json when jsonResponse is set', async () => {
    const up = await startMcpUpstream({ jsonResponse: true });
    try {
      const response = await fetch(up.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: INITIALIZE_PARAMS }),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('application/json');
      expect(await response.json()).toMatchObject({
        jsonrpc: '2.0',
        id: 1,
        result: { serverInfo: { name: 'bastion-test-upstream' } },
      });
    } finally {
      await up.close();
    }
  });
});

describe('startMcpUpstream legacy HTTP+SSE under a basePath', () => {
  let up: McpUpstream;

  beforeAll(async () => {
    up = await startMcpUpstream({ basePath: '/api/v1' });
  });
  afterAll(async () => {
    await up.close();
  });

  it('mounts both transports under the prefix', () => {
    expect(up.basePath).toBe('/api/v1');
    expect(up.url).toBe(`${up.origin}/api/v1/mcp`);
    expect(up.sseUrl).toBe(`${up.origin}/api/v1/sse`);
  });

  it('serves tools, progress and sampling over /api/v1/sse + /api/v1/messages', async () => {
    up.clearRequests();
    const client = new Client({ name: 'legacy', version: '1.0.0' }, { capabilities: { sampling: {} } });
    client.setRequestHandler(CreateMessageRequestSchema, () => ({
      model: 'm',
      role: 'assistant',
      content: { type: 'text', text: 'legacy answer' },
    }));
    const transport = new SSEClientTransport(new URL(up.sseUrl));
    await client.connect(transport);
    openClients.push(client);
    expect(up.sessionCount).toBe(1);

    expect(text(await client.callTool({ name: 'echo', arguments: { text: 'old school' } }))).toBe(
      'old school',
    );
    const progress: number[] = [];
    const latch = up.latch('legacy-progress');
    await client.callTool({ name: 'progress', arguments: { steps: 2, latch: latch.name } }, undefined, {
      onprogress: (p: Progress) => {
        progress.push(p.progress);
        latch.release();
      },
    });
    // Step 1 arrived while the tool was parked on the latch. (The SDK's legacy client can drop a
    // progress event that shares a read with the final result, so only step 1 is asserted.)
    expect(progress[0]).toBe(1);
    expect(text(await client.callTool({ name: 'sample', arguments: { prompt: 'p' } }))).toBe('legacy answer');

    expect(up.requests[0]).toMatchObject({ method: 'GET', path: '/api/v1/sse', status: 200 });
    const posts = up.requests.filter((r) => r.method === 'POST');
    expect(posts.length).toBeGreaterThan(0);
    for (const post of posts) {
      expect(post.path).toBe('/api/v1/messages');
      expect(post.query['sessionId']).toEqual(expect.any(String));
    }
    expect(up.rpcRequests('tools/call')).toHaveLength(3);
  });

  it('answers a POST for an unknown legacy session with 404', async () => {
    const response = await fetch(`${up.origin}/api/v1/messages?sessionId=nope`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(response.status).toBe(404);
    await response.body?.cancel();
  });

  it('does not serve the unprefixed paths', async () => {
    const response = await fetch(`${up.origin}/sse`);
    expect(response.status).toBe(404);
    await response.body?.cancel();
  });
});

describe('startMcpUpstream scopesSupported', () => {
  it('lists scopes_supported in the protected-resource metadata (path-specific and root)', async () => {
    const up = await startMcpUpstream({ scopesSupported: ['mcp:tools', 'mcp:read'] });
    try {
      for (const path of [
        '/.well-known/oauth-protected-resource/mcp',
        '/.well-known/oauth-protected-resource',
      ]) {
        const doc = (await (await fetch(`${up.origin}${path}`)).json()) as Record<string, unknown>;
        expect(doc.scopes_supported).toEqual(['mcp:tools', 'mcp:read']);
      }
    } finally {
      await up.close();
    }
  });

  it('omits scopes_supported by default', async () => {
    const up = await startMcpUpstream();
    try {
      const doc = (await (
        await fetch(`${up.origin}/.well-known/oauth-protected-resource/mcp`)
      ).json()) as object;
      expect(doc).not.toHaveProperty('scopes_supported');
    } finally {
      await up.close();
    }
  });

  it('refuses scopes that are not scope tokens', async () => {
    await expect(startMcpUpstream({ scopesSupported: ['a b'] })).rejects.toThrow(/"scopesSupported"/);
    await expect(startMcpUpstream({ scopesSupported: [''] })).rejects.toThrow(/"scopesSupported"/);
    await expect(startMcpUpstream({ scopesSupported: 'mcp:tools' as unknown as string[] })).rejects.toThrow(
      /"scopesSupported"/,
    );
  });
});

describe('startMcpUpstream requireAuth', () => {
  let up: McpUpstream;

  beforeAll(async () => {
    up = await startMcpUpstream({
      requireAuth: (request) => request.headers.authorization === 'Bearer good',
      authorizationServers: ['http://127.0.0.1:1/issuer'],
    });
  });
  afterAll(async () => {
    await up.close();
  });

  const initialize = (headers: Record<string, string>): Promise<Response> =>
    fetch(up.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...headers,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: INITIALIZE_PARAMS }),
    });

  it('answers 401 with a resource_metadata challenge when no token is sent', async () => {
    const response = await initialize({});
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${up.origin}/.well-known/oauth-protected-resource/mcp"`,
    );
    expect(await response.json()).toEqual({
      error: 'invalid_token',
      error_description: 'Authentication required',
    });
    expect(up.requests.at(-1)?.status).toBe(401);
  });

  it('adds error="invalid_token" when a wrong token is sent', async () => {
    const response = await initialize({ authorization: 'Bearer bad' });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
    await response.body?.cancel();
  });

  it('serves its protected-resource metadata without a token', async () => {
    const response = await fetch(`${up.origin}/.well-known/oauth-protected-resource/mcp`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      resource: up.url,
      authorization_servers: ['http://127.0.0.1:1/issuer'],
      bearer_methods_supported: ['header'],
    });
  });

  it('serves clients that send the accepted token', async () => {
    const { client } = await connect(up.url, { headers: { authorization: 'Bearer good' } });
    expect(text(await client.callTool({ name: 'echo', arguments: { text: 'in' } }))).toBe('in');
  });

  it('makes an SDK client without credentials fail to connect', async () => {
    const client = new Client({ name: 'anon', version: '1.0.0' });
    await expect(client.connect(new StreamableHTTPClientTransport(new URL(up.url)))).rejects.toThrow();
  });
});

describe('startMcpUpstream extension points', () => {
  it('serves extra tools, replaces built-ins by name, and runs configure per server', async () => {
    let configured = 0;
    const up = await startMcpUpstream({
      pageSize: 100,
      tools: [
        defineTool({
          name: 'shout',
          inputSchema: z.object({ text: z.string() }),
          handler: ({ text: value }) => textResult(value.toUpperCase()),
        }),
        {
          name: 'echo',
          description: 'replacement',
          inputSchema: { type: 'object', properties: { anything: {} } },
          handler: (args) => textResult(`raw:${JSON.stringify(args)}`),
        },
        {
          name: 'explode',
          handler: () => {
            throw new Error('plain error');
          },
        },
      ],
      configure: (server) => {
        configured += 1;
        server.registerPrompt('extra', { description: 'added by configure' }, () => ({ messages: [] }));
      },
    });
    try {
      const { client } = await connect(up.url);
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual([...BUILTIN_TOOLS, 'shout', 'explode']);
      expect(tools.find((tool) => tool.name === 'echo')?.description).toBe('replacement');
      expect(text(await client.callTool({ name: 'shout', arguments: { text: 'hey' } }))).toBe('HEY');
      expect(text(await client.callTool({ name: 'echo', arguments: { anything: 1 } }))).toBe(
        'raw:{"anything":1}',
      );
      expect(await client.callTool({ name: 'explode', arguments: {} })).toEqual({
        content: [{ type: 'text', text: 'plain error' }],
        isError: true,
      });
      expect((await client.listPrompts()).prompts.map((p) => p.name)).toEqual(['greeting', 'extra']);
      expect(configured).toBe(1);
    } finally {
      await up.close();
    }
  });

  it('serves only the given tools and no demo content when asked', async () => {
    const up = await startMcpUpstream({
      builtinTools: false,
      demoContent: false,
      tools: [{ name: 'only', handler: () => textResult('ok') }],
    });
    try {
      const { client } = await connect(up.url);
      expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['only']);
      expect(client.getServerCapabilities()?.prompts).toBeUndefined();
    } finally {
      await up.close();
    }
  });

  it('lets onRequest take over a request', async () => {
    const up = await startMcpUpstream({
      onRequest: (request, res) => {
        if (request.headers['x-teapot'] === undefined) return undefined;
        res.writeHead(418, { 'content-type': 'text/plain' });
        res.end('teapot');
        return true;
      },
    });
    try {
      const teapot = await fetch(up.url, { method: 'POST', headers: { 'x-teapot': '1' }, body: '{}' });
      expect(teapot.status).toBe(418);
      expect(await teapot.text()).toBe('teapot');
      expect(up.requests[0]?.status).toBe(418);
      const { client } = await connect(up.url);
      await expect(client.ping()).resolves.toEqual({});
    } finally {
      await up.close();
    }
  });

  it('validates its options with TypeErrors naming the option', async () => {
    await expect(startMcpUpstream({ pageSize: 0 })).rejects.toThrow(
      new TypeError('"pageSize" must be a positive integer'),
    );
    await expect(startMcpUpstream({ basePath: 'api' })).rejects.toThrow(/"basePath"/);
    await expect(startMcpUpstream({ basePath: '/api/' })).rejects.toThrow(/"basePath"/);
    await expect(startMcpUpstream({ port: 70000 })).rejects.toThrow(/"port"/);
    await expect(startMcpUpstream({ requireAuth: 'yes' as unknown as () => boolean })).rejects.toThrow(
      /"requireAuth"/,
    );
    await expect(startMcpUpstream({ tools: [{ name: 'x' } as unknown as UpstreamTool] })).rejects.toThrow(
      /"tools"/,
    );
  });
});
