/**
 * List filtering (JSON and SSE framing, pagination), prompts and resources, unknown methods, the
 * client's answer to an elicitation, and 2026-07-28 header checks — end to end.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { type Stack, startStack } from './stack.js';

const POLICIES = [
  '@id("read-only") permit(principal, action == Action::"call_tool", resource) when { resource has readOnlyHint && resource.readOnlyHint };',
  '@id("elicit") permit(principal, action == Action::"call_tool", resource == Tool::"elicit");',
  '@id("greeting") permit(principal, action == Action::"get_prompt", resource == Prompt::"greeting");',
  '@id("readme") permit(principal, action == Action::"read_resource", resource == Resource::"demo://readme");',
];
const PERMITTED = ['add', 'echo', 'elicit', 'get_weather'];
const user = { sub: 'u1', email: 'u1@company.com' };

let sseStack: Stack;
let jsonStack: Stack;
beforeAll(async () => {
  sseStack = await startStack({ policies: POLICIES }, { pageSize: 2 });
  jsonStack = await startStack({ policies: POLICIES }, { pageSize: 2, jsonResponse: true, stateless: true });
});
afterAll(async () => {
  await sseStack.close();
  await jsonStack.close();
});

async function allToolPages(stack: Stack): Promise<{ pages: number; names: string[] }> {
  const client = await stack.client(user);
  const names: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor });
    pages++;
    names.push(...page.tools.map((t) => t.name));
    cursor = page.nextCursor;
  } while (cursor !== undefined && pages < 20);
  return { pages, names };
}

describe('list filtering', () => {
  it.each([
    ['SSE', () => sseStack],
    ['JSON', () => jsonStack],
  ])('filters every page of a paginated tools/list (%s) and keeps nextCursor', async (_framing, get) => {
    const stack = get();
    stack.upstream.clearRequests();
    const { pages, names } = await allToolPages(stack);
    expect(names.sort()).toEqual(PERMITTED);
    // every upstream page was walked through the preserved cursor
    const upstreamPages = stack.upstream.rpcRequests('tools/list').length;
    expect(pages).toBe(upstreamPages);
    expect(pages).toBeGreaterThan(2);
  });

  it('answers a raw JSON list with a JSON body whose result is filtered', async () => {
    const res = await jsonStack.post(user, { jsonrpc: '2.0', id: 'l1', method: 'tools/list', params: {} });
    expect(res.contentType).toContain('application/json');
    const page = (res.body as { result: { tools: Array<{ name: string }>; nextCursor?: string } }).result;
    expect(page.tools.map((t) => t.name)).toEqual(['echo', 'add']);
    expect(typeof page.nextCursor).toBe('string');
  });

  it('answers a raw SSE list with an SSE body whose result is filtered', async () => {
    const init = await sseStack.post(user, {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    const session = init.headers.get('mcp-session-id');
    expect(session).toBeTruthy();
    const headers = { 'mcp-session-id': session as string, 'mcp-protocol-version': '2025-06-18' };
    await sseStack.post(user, { jsonrpc: '2.0', method: 'notifications/initialized' }, headers);
    const res = await sseStack.post(
      user,
      { jsonrpc: '2.0', id: 's1', method: 'tools/list', params: {} },
      headers,
    );
    expect(res.contentType).toContain('text/event-stream');
    const [message] = res.body as Array<{
      id: string;
      result: { tools: Array<{ name: string }>; nextCursor?: string };
    }>;
    expect(message?.id).toBe('s1');
    expect(message?.result.tools.map((t) => t.name)).toEqual(['echo', 'add']);
    expect(typeof message?.result.nextCursor).toBe('string');
  });

  it('filters prompts and resources, and gates prompts/get and resources/read', async () => {
    const client = await sseStack.client(user);
    const prompts = await client.listPrompts();
    expect(prompts.prompts.map((p) => p.name)).toEqual(['greeting']);
    const greeting = await client.getPrompt({ name: 'greeting', arguments: { name: 'Ann' } });
    expect(JSON.stringify(greeting.messages)).toContain('Ann');
    const resources = await client.listResources();
    expect(resources.resources.map((r) => r.uri)).toEqual(['demo://readme']);
    const readme = await client.readResource({ uri: 'demo://readme' });
    expect(readme.contents).toHaveLength(1);
    await expect(client.readResource({ uri: 'demo://secret' })).rejects.toThrow(/403/);
  });

  it('refuses an unknown method as Method not found (200 / -32601 before 2026-07-28) with the id echoed', async () => {
    jsonStack.upstream.clearRequests();
    const res = await jsonStack.post(user, { jsonrpc: '2.0', id: 'x-9', method: 'tasks/list', params: {} });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      jsonrpc: '2.0',
      id: 'x-9',
      error: { code: -32601, message: 'Method not found' },
    });
    expect(jsonStack.upstream.rpcRequests('tasks/list')).toHaveLength(0);
  });
});

describe('client responses', () => {
  it("never blocks the client's answer to an elicitation request", async () => {
    sseStack.upstream.clearRequests();
    const client = await sseStack.client(user, { elicitation: {} });
    client.setRequestHandler(ElicitRequestSchema, async () => ({
      action: 'accept',
      content: { answer: '42' },
    }));
    const result = await client.callTool({ name: 'elicit', arguments: { message: 'question?' } });
    expect(result.structuredContent).toEqual({ action: 'accept', content: { answer: '42' } });
    // the client's JSON-RPC response reached the upstream through authz
    const answers = sseStack.upstream.requests.filter((r) => {
      const b = r.body as Record<string, unknown> | undefined;
      return r.method === 'POST' && b !== undefined && !('method' in b) && 'result' in b;
    });
    expect(answers).toHaveLength(1);
  });
});

describe('2026-07-28 mirrored headers', () => {
  const modern = { 'mcp-protocol-version': '2026-07-28' };
  const body = {
    jsonrpc: '2.0',
    id: 8,
    method: 'tools/call',
    params: { name: 'delete_repo', arguments: { name: 'x' } },
  };

  it('rejects an Mcp-Name that disagrees with the body (400, -32020) without contacting the upstream', async () => {
    jsonStack.upstream.clearRequests();
    const res = await jsonStack.post(user, body, {
      ...modern,
      'mcp-method': 'tools/call',
      'mcp-name': 'echo',
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      jsonrpc: '2.0',
      id: 8,
      error: { code: -32020, message: 'Mcp-Name header does not match the request body' },
    });
    expect(jsonStack.upstream.requests).toHaveLength(0);
  });

  it('rejects an Mcp-Method that disagrees with the body', async () => {
    const res = await jsonStack.post(user, body, {
      ...modern,
      'mcp-method': 'tools/list',
      'mcp-name': 'delete_repo',
    });
    expect(res.status).toBe(400);
    expect((res.body as { error: { message: string } }).error.message).toContain('Mcp-Method');
  });
});
