/**
 * Upstream misbehaviour through a passthrough proxy and the full chain: resets and stalls mid-SSE-stream,
 * stalls before headers, invalid JSON. Each time the proxy answers per PRODUCT.md §2.2 / proxy-core's
 * error table, keeps serving another client, and leaks no socket or timer.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type McpUpstream, startMcpUpstream, type UpstreamFault } from '@bastion-mcp/testkit';
import { Agent, request } from 'undici';
import { MCP_HEADERS, post, rpc } from '../helpers/http.js';
import { leakedSince, resources } from '../helpers/leaks.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy.js';

const CALL = rpc('tools/call', { name: 'echo', arguments: { text: 'still here' } }, 42);

/** Reads an SSE answer until it ends or breaks; returns what arrived and how it ended. */
async function readStream(
  url: string,
  dispatcher: Agent,
): Promise<{ status: number; text: string; broken: boolean }> {
  const res = await request(url, { method: 'POST', headers: MCP_HEADERS, body: CALL, dispatcher });
  let text = '';
  try {
    for await (const chunk of res.body) text += chunk.toString();
    return { status: res.statusCode, text, broken: false };
  } catch {
    return { status: res.statusCode, text, broken: true };
  }
}

describe.each(['passthrough', 'full'] as const)('upstream faults (%s)', (mode) => {
  let upstream: McpUpstream;
  let proxy: TestProxy;

  beforeAll(async () => {
    upstream = await startMcpUpstream({ stateless: true });
    proxy = await startTestProxy(upstream.url, {
      chain: mode === 'full' ? 'full' : 'none',
      upstream: { headersTimeoutMs: 400, sseIdleTimeoutMs: 400 },
    });
  });
  afterAll(async () => {
    await proxy.close();
    await upstream.close();
  });

  async function otherClientServed(agent: Agent): Promise<void> {
    const ok = await post(proxy.url, CALL, { dispatcher: agent });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('still here');
  }

  it.each<[UpstreamFault, string]>([
    ['reset-mid-stream', 'partial'],
    ['stall-body', 'event: message'],
  ])('%s: the relayed SSE stream is cut visibly (never a clean end)', async (fault, seen) => {
    const baseline = resources();
    const agent = new Agent();
    upstream.setFault(fault, { count: 1 });
    const r = await readStream(proxy.url, agent);
    expect(r.status).toBe(200);
    expect(r.text).toContain(seen);
    expect(r.broken).toBe(true);
    await otherClientServed(agent);
    await agent.close();
    expect(await leakedSince(baseline)).toEqual({});
  });

  it('stall before headers: 504 with a JSON-RPC error echoing the id', async () => {
    const baseline = resources();
    const agent = new Agent();
    upstream.setFault('stall-headers', { count: 1 });
    const a = await post(proxy.url, CALL, { dispatcher: agent });
    expect(a.status).toBe(504);
    expect(a.json).toEqual({
      jsonrpc: '2.0',
      id: 42,
      error: { code: -32603, message: 'Upstream MCP server timed out' },
    });
    await otherClientServed(agent);
    await agent.close();
    expect(await leakedSince(baseline)).toEqual({});
  });

  it('invalid JSON: relayed byte for byte when no transform reads it; 502 when one does (tools/list)', async () => {
    const baseline = resources();
    const agent = new Agent();
    upstream.setFault('invalid-json', { count: 1 });
    const piped = await post(proxy.url, CALL, { dispatcher: agent });
    expect(piped.status).toBe(200);
    expect(piped.text).toBe('{"jsonrpc":"2.0","result": this is not json');
    upstream.setFault('invalid-json', { count: 1 });
    const listed = await post(proxy.url, rpc('tools/list', {}, 'l1'), { dispatcher: agent });
    if (mode === 'full') {
      // tool-filter and authz parse tools/list answers: invalid JSON there is a bad upstream response.
      expect(listed.status).toBe(502);
      expect(listed.json).toEqual({
        jsonrpc: '2.0',
        id: 'l1',
        error: { code: -32603, message: 'Invalid response from upstream MCP server' },
      });
    } else {
      expect(listed.status).toBe(200);
      expect(listed.text).toBe('{"jsonrpc":"2.0","result": this is not json');
    }
    await otherClientServed(agent);
    await agent.close();
    expect(await leakedSince(baseline)).toEqual({});
  });
});
