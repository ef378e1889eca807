/**
 * Upstream error answers through a passthrough proxy and the full chain (PRODUCT.md §2.2: every error
 * body is JSON; a bad upstream answer is a 502 JSON-RPC error; the remote's own 401 challenge passes
 * unchanged): non-JSON 5xx → 502 JSON-RPC error echoing the id, non-JSON 4xx keep their status with a
 * JSON body, challenges and JSON error bodies pass byte for byte, and nothing leaks.
 */
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type McpUpstream, startMcpUpstream } from '@bastion-mcp/testkit';
import { Agent } from 'undici';
import { post, type RawServer, rpc, startRawServer } from '../helpers/http.js';
import { leakedSince, resources } from '../helpers/leaks.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';

const CALL = rpc('tools/call', { name: 'echo', arguments: { text: 'x' } }, 42);

const upstreamError = (id: number | string | null, upstreamStatus: number) => ({
  jsonrpc: '2.0',
  id,
  error: { code: -32603, message: 'Upstream error', data: { upstreamStatus } },
});

describe.each(['passthrough', 'full'] as const)('upstream error answers (%s)', (mode) => {
  let mcp: McpUpstream;
  let mcpProxy: TestProxy;
  let raw: RawServer;
  let rawProxy: TestProxy;
  let answer: (res: ServerResponse) => void = (res) => res.end();

  beforeAll(async () => {
    mcp = await startMcpUpstream({ stateless: true });
    mcpProxy = await startTestProxy(mcp.url, { chain: mode === 'full' ? 'full' : 'none' });
    raw = await startRawServer((req, res) => {
      req.resume();
      req.once('end', () => answer(res));
    });
    rawProxy = await startTestProxy(raw.url, { chain: mode === 'full' ? 'full' : 'none' });
  });
  afterAll(async () => {
    await rawProxy.close();
    await mcpProxy.close();
    await raw.close();
    await mcp.close();
  });

  it('an upstream 500 text/plain becomes 502 with a JSON-RPC error echoing the id; the next call is served', async () => {
    const baseline = resources();
    const agent = new Agent();
    mcp.setFault('http-500', { count: 1 });
    const failed = await post(mcpProxy.url, CALL, { dispatcher: agent });
    expect(failed.status).toBe(502);
    expect(failed.headers['content-type']).toBe('application/json');
    expect(failed.json).toEqual(upstreamError(42, 500));
    expect(failed.text).not.toContain('exploded');
    const ok = await post(mcpProxy.url, CALL, { dispatcher: agent });
    expect(ok.status).toBe(200);
    await agent.close();
    expect(await leakedSince(baseline)).toEqual({});
  });

  it('a non-JSON 4xx keeps its status (404 for an expired session) with a JSON-RPC error body', async () => {
    answer = (res) => {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<h1>Not Found</h1>');
    };
    const gone = await post(rawProxy.url, CALL, { headers: { 'mcp-session-id': 'expired' } });
    expect(gone.status).toBe(404);
    expect(gone.json).toEqual(upstreamError(42, 404));
  });

  it('a 401 challenge and a JSON error body pass byte for byte', async () => {
    answer = (res) => {
      res.writeHead(401, {
        'content-type': 'text/plain',
        'www-authenticate':
          'Bearer resource_metadata="https://remote.example/.well-known/oauth-protected-resource"',
      });
      res.end('Unauthorized');
    };
    const challenge = await post(rawProxy.url, CALL);
    expect(challenge.status).toBe(401);
    expect(challenge.headers['www-authenticate']).toBe(
      'Bearer resource_metadata="https://remote.example/.well-known/oauth-protected-resource"',
    );
    expect(challenge.text).toBe('Unauthorized');

    const own = '{"jsonrpc":"2.0","id":42,"error":{"code":-32000,"message":"Backend busy"}}';
    answer = (res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(own);
    };
    const json = await post(rawProxy.url, CALL);
    expect([json.status, json.text]).toEqual([503, own]);
  });
});
