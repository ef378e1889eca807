/**
 * The proposal's three example policies end to end: lists for everyone, calls only for
 * @company.com users on named tools, destructive tools forbidden — with the annotation taken from the
 * upstream's own tools/list even when the client claims otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Stack, startStack } from './stack.js';

const POLICIES = [
  `@id("list-for-all")
permit(principal, action in [Action::"list_tools", Action::"list_prompts", Action::"list_resources"], resource);`,
  `@id("company-named-tools")
permit(principal, action == Action::"call_tool", resource)
when {
  principal has claim_email && principal.claim_email like "*@company.com" &&
  resource in [Tool::"echo", Tool::"get_weather", Tool::"delete_repo"]
};`,
  `@id("no-destructive")
forbid(principal, action == Action::"call_tool", resource)
when { resource has destructiveHint && resource.destructiveHint };`,
];

const alice = { sub: 'alice', email: 'alice@company.com' };
const mallory = { sub: 'mallory', email: 'mallory@evil.example' };

let stack: Stack;
let fresh: Stack;
beforeAll(async () => {
  stack = await startStack({ policies: POLICIES, authorizeListRequests: true }, { stateless: true });
  fresh = await startStack({ policies: POLICIES, authorizeListRequests: true });
});
afterAll(async () => {
  await stack.close();
  await fresh.close();
});

function call(name: string, extra: Record<string, unknown> = {}, id = 1) {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {}, ...extra } };
}

describe('proposal example policies', () => {
  it('lists only the tools a company user may call', async () => {
    const client = await stack.client(alice);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['echo', 'get_weather']);
  });

  it('lets a company user call a named tool', async () => {
    const client = await stack.client(alice);
    const result = await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
    expect(result.content).toEqual([{ type: 'text', text: 'hi' }]);
  });

  it('denies a company user a tool that is not named, with 403 and the id echoed', async () => {
    stack.upstream.clearRequests();
    const res = await stack.post(alice, { ...call('add', { arguments: { a: 1, b: 2 } }, 42) });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({
      jsonrpc: '2.0',
      id: 42,
      error: { code: 403, message: 'Access denied by policy' },
    });
    expect(stack.upstream.rpcRequests('tools/call')).toHaveLength(0);
  });

  it('forbids a destructive tool even when the client claims it is harmless', async () => {
    stack.upstream.clearRequests();
    const lying = call('delete_repo', {
      arguments: { name: 'prod', destructiveHint: false },
      annotations: { destructiveHint: false, readOnlyHint: true },
      _meta: { annotations: { destructiveHint: false } },
    });
    stack.logs.length = 0;
    const res = await stack.post(alice, lying);
    expect(res.status).toBe(403);
    expect(stack.upstream.rpcRequests('tools/call')).toHaveLength(0);
    const denial = stack.logs.find((l) => l.msg === 'Request denied by authz');
    expect(denial?.obj).toMatchObject({
      policyIds: ['no-destructive'],
      reason: 'forbidden by "no-destructive"',
    });
  });

  it('fetches the upstream tools/list itself when a call names a tool it has not seen listed', async () => {
    const client = await fresh.client(alice);
    await expect(client.callTool({ name: 'delete_repo', arguments: { name: 'prod' } })).rejects.toThrow(
      /403/,
    );
    const lists = fresh.upstream.rpcRequests('tools/list');
    expect(lists).toHaveLength(1);
    expect(String((lists[0]?.body as { id?: unknown } | undefined)?.id)).toMatch(/^bastion-authz-tools-/);
    // the side request went through the same upstream session as the client's call
    expect(lists[0]?.headers['mcp-session-id']).toBeDefined();
    expect(fresh.upstream.rpcRequests('tools/call')).toHaveLength(0);
    const ok = await client.callTool({ name: 'get_weather', arguments: { city: 'Oslo' } });
    expect(ok.isError).toBeFalsy();
    expect(fresh.upstream.rpcRequests('tools/list')).toHaveLength(1);
  });

  it('gives an outside user empty lists and denies every call', async () => {
    const client = await stack.client(mallory);
    const { tools } = await client.listTools();
    expect(tools).toEqual([]);
    const res = await stack.post(mallory, call('echo', { arguments: { text: 'x' } }));
    expect(res.status).toBe(403);
  });

  it('denies a call from a token without an email claim (has-guarded policy, no error)', async () => {
    const res = await stack.post({ sub: 'svc' }, call('echo', { arguments: { text: 'x' } }));
    expect(res.status).toBe(403);
  });
});
