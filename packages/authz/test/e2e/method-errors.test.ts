/**
 * Unknown methods and nameless target requests through the real proxy server, the real auth
 * middleware and a real SDK client and upstream: the wire answers a client sees, and that the
 * upstream is never contacted.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EmptyResultSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { type Stack, startStack } from './stack.js';

const alice = { sub: 'alice' };
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ policies: ['permit(principal, action, resource);'] }, { stateless: true });
});
afterAll(async () => {
  await stack.close();
});

describe('method errors end to end', () => {
  it('gives an SDK client a -32601 McpError for an unknown method (JSON-RPC error on HTTP 200)', async () => {
    const client = await stack.client(alice);
    stack.upstream.clearRequests();
    const err = await client
      .request({ method: 'foo/bar', params: {} }, EmptyResultSchema)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(McpError);
    expect(err).toMatchObject({ code: -32601 });
    expect(stack.upstream.rpcRequests()).toHaveLength(0);
  });

  it('answers a nameless tools/call with 400 / -32602 echoing the id, upstream untouched', async () => {
    stack.upstream.clearRequests();
    const res = await stack.post(alice, {
      jsonrpc: '2.0',
      id: 77,
      method: 'tools/call',
      params: { arguments: {} },
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ jsonrpc: '2.0', id: 77, error: { code: -32602, message: 'Invalid params' } });
    expect(stack.upstream.rpcRequests()).toHaveLength(0);
  });

  it('answers an unknown notification with 202 and does not forward it', async () => {
    stack.upstream.clearRequests();
    const res = await stack.post(alice, { jsonrpc: '2.0', method: 'custom/event', params: {} });
    expect(res.status).toBe(202);
    expect(stack.upstream.rpcRequests()).toHaveLength(0);
  });
});
