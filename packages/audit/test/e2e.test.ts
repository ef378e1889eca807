/**
 * End to end: a real MCP SDK client → proxy-core server (audit outermost) → the testkit MCP upstream
 * (a real SDK server). Events go to a file sink and an in-memory sink; every one must match the schema.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Exchange, Middleware, Next } from '@bastion-mcp/proxy-core';
import { ProxyHttpError, startProxyServer } from '@bastion-mcp/proxy-core';
import type { ProxyServer } from '@bastion-mcp/proxy-core';
import { freePort, startMcpUpstream } from '@bastion-mcp/testkit';
import type { McpUpstream } from '@bastion-mcp/testkit';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { AuditEvent } from '../src/event.js';
import { createAuditMiddleware } from '../src/middleware.js';
import type { AuditMiddleware } from '../src/middleware.js';
import { assertValidEvent, identity, memorySink } from './helpers.js';

const TOKEN = 'e2e-opaque-access-token-0123456789';

/**
 * Stand-in for the auth layer (a middleware package may not import another): accepts exactly TOKEN,
 * refuses anything else with the same ProxyHttpError shape @bastion-mcp/auth throws.
 */
const bearerAuth: Middleware = {
  name: 'auth',
  async handle(ex: Exchange, next: Next) {
    if (ex.request.headers.authorization !== `Bearer ${TOKEN}`) {
      ex.notes.rejectedBy = 'auth';
      throw new ProxyHttpError({
        status: 401,
        rpcCode: -32001,
        publicMessage: 'authentication required',
        code: 'ERR_BASTION_AUTH_INVALID_TOKEN',
        headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
        oauthError: { error: 'invalid_token', error_description: 'authentication required' },
      });
    }
    ex.identity = identity({ subject: 'u1', claims: { sub: 'u1', act: { sub: 'agent-7' } } });
    return next();
  },
};

let dir: string;
let up: McpUpstream;
let proxy: ProxyServer;
let audit: AuditMiddleware;
let client: Client;
let transport: StreamableHTTPClientTransport;
const sink = memorySink();

async function settled(): Promise<AuditEvent[]> {
  await audit.flush(2000);
  for (const e of sink.events) assertValidEvent(e);
  return sink.events;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bastion-audit-e2e-'));
  up = await startMcpUpstream();
  audit = createAuditMiddleware({
    sinks: [sink, { type: 'file', path: path.join(dir, 'audit.jsonl') }],
    payloads: { maxBytes: 2048 },
  });
  proxy = await startProxyServer({
    upstreamUrl: up.url,
    serverName: 'demo',
    middlewares: [audit, bearerAuth],
  });
  client = new Client({ name: 'audit-e2e', version: '2.1.0' });
  transport = new StreamableHTTPClientTransport(new URL(proxy.url), {
    requestInit: { headers: { authorization: `Bearer ${TOKEN}`, 'user-agent': 'audit-e2e/1' } },
  });
  await client.connect(transport);
});

afterAll(async () => {
  await client?.close();
  await proxy?.close();
  await audit?.close();
  await up?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('audit end to end', () => {
  it('records the handshake: initialize with client info and the initialized notification', async () => {
    const events = await settled();
    const init = events.find((e) => e.type === 'mcp_initialize');
    expect(init).toMatchObject({
      outcome: 'success',
      status: 200,
      subject: { userId: 'u1', clientName: 'audit-e2e', clientVersion: '2.1.0' },
      source: { ip: '127.0.0.1', userAgent: 'audit-e2e/1' },
      target: { server: 'demo', endpoint: '/mcp', method: 'initialize' },
      delegation: { chain: [{ sub: 'agent-7' }], truncated: false, malformed: false },
    });
    expect(init?.target.sessionId).toEqual(expect.any(String));
    expect(
      events.some((e) => e.type === 'mcp_notification' && e.target.method === 'notifications/initialized'),
    ).toBe(true);
  });

  it("records the client's GET stream as sse_connection while it is still open", async () => {
    // The SDK client opens its GET stream on its own after the handshake; wait for its event.
    let stream: AuditEvent | undefined;
    for (let i = 0; i < 200 && stream === undefined; i++) {
      stream = (await settled()).find((e) => e.type === 'sse_connection');
      if (stream === undefined) await new Promise((r) => setTimeout(r, 10));
    }
    expect(stream).toMatchObject({
      outcome: 'success',
      status: 200,
      target: { httpMethod: 'GET', sessionId: transport.sessionId },
      subject: { userId: 'u1' },
    });
    // A second GET stream on the same session is refused by the upstream (409): a failure.
    const res = await fetch(proxy.url, {
      method: 'GET',
      headers: {
        accept: 'text/event-stream',
        authorization: `Bearer ${TOKEN}`,
        'mcp-protocol-version': '2025-06-18',
        'mcp-session-id': transport.sessionId ?? '',
      },
    });
    await res.body?.cancel().catch(() => {});
    const requestId = res.headers.get('x-request-id');
    const second = (await settled()).find((e) => e.source.requestId === requestId);
    expect(second).toMatchObject({ type: 'sse_connection', status: res.status, upstreamStatus: res.status });
    expect(second?.outcome).toBe(res.status >= 500 ? 'error' : res.status >= 400 ? 'failure' : 'success');
  });

  it('records a successful call with the upstream status, and the payload without the token', async () => {
    sink.events.length = 0;
    await client.callTool({ name: 'echo', arguments: { text: `leak ${TOKEN}`, password: 'p' } });
    const [e] = (await settled()).filter((x) => x.type === 'mcp_tool_call');
    expect(e).toMatchObject({ outcome: 'success', status: 200, target: { tool: 'echo' } });
    expect(e?.upstreamStatus).toBe(200);
    expect(e?.data?.request).toMatchObject({
      params: { arguments: { text: 'leak [REDACTED]', password: '[REDACTED]' } },
    });
    expect(JSON.stringify(sink.events)).not.toContain(TOKEN);
  });

  it('records an isError result and a JSON-RPC error from the upstream as application_error', async () => {
    sink.events.length = 0;
    await client.callTool({ name: 'fail', arguments: {} });
    await expect(client.callTool({ name: 'throw', arguments: {} })).rejects.toThrow();
    const calls = (await settled()).filter((x) => x.type === 'mcp_tool_call');
    expect(calls.map((c) => [c.target.tool, c.outcome])).toEqual([
      ['fail', 'application_error'],
      ['throw', 'application_error'],
    ]);
    expect(calls[0]?.toolError).toBe(true);
    expect(calls[1]?.rpcError?.code).toEqual(expect.any(Number));
  });

  it('records a request without a token as denied (401), and the client gets the 401', async () => {
    sink.events.length = 0;
    const res = await fetch(proxy.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'x-forwarded-for': '198.51.100.1',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'echo', arguments: {} },
      }),
    });
    expect(res.status).toBe(401);
    await res.text();
    const [e] = await settled();
    expect(e).toMatchObject({
      type: 'mcp_tool_call',
      outcome: 'denied',
      status: 401,
      rejectedBy: 'auth',
      errorCode: 'ERR_BASTION_AUTH_INVALID_TOKEN',
    });
    expect(e?.source.ip).toBe('127.0.0.1'); // XFF from an untrusted peer is ignored
    expect(e?.subject.userId).toBeUndefined();
  });

  it('records upstream failures: a 500 and a stream cut before the answer', async () => {
    sink.events.length = 0;
    up.setFault('http-500', { count: 1 });
    await expect(client.callTool({ name: 'echo', arguments: { text: 'a' } })).rejects.toThrow();
    // The SDK client would try to resume a cut stream; a plain POST shows the cut as the client sees it.
    up.setFault('reset-mid-stream', { count: 1 });
    const res = await fetch(proxy.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${TOKEN}`,
        'mcp-protocol-version': '2025-06-18',
        'mcp-session-id': transport.sessionId ?? '',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 77,
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: 'b' } },
      }),
    });
    expect(res.status).toBe(200);
    await res.text().catch(() => '');
    const calls = (await settled()).filter((x) => x.type === 'mcp_tool_call');
    // A non-JSON 5xx from the upstream is answered 502 with a JSON-RPC error (proxy-core); audit keeps both.
    expect(calls[0]).toMatchObject({ outcome: 'error', status: 502, upstreamStatus: 500 });
    expect(calls[1]).toMatchObject({ outcome: 'error', streamIncomplete: true });
  });

  it('records an unreachable upstream as error with the proxy error code', async () => {
    const deadPort = await freePort();
    const deadSink = memorySink('dead');
    const a = createAuditMiddleware({ sinks: [deadSink] });
    const p = await startProxyServer({ upstreamUrl: `http://127.0.0.1:${deadPort}/mcp`, middlewares: [a] });
    try {
      const res = await fetch(p.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      });
      expect(res.status).toBe(502);
      await res.text();
      await a.flush(1000);
      expect(deadSink.events).toHaveLength(1);
      assertValidEvent(deadSink.events[0]);
      expect(deadSink.events[0]).toMatchObject({
        type: 'mcp_ping',
        outcome: 'error',
        status: 502,
        errorCode: 'ERR_BASTION_PROXY_UPSTREAM_UNREACHABLE',
      });
    } finally {
      await p.close();
      await a.close();
    }
  });

  it('a graceful shutdown writes every audited request to a batching file sink, in order', async () => {
    const file = path.join(dir, 'shutdown.jsonl');
    // A long gathering interval: the events of these calls are still queued when the proxy stops.
    const a = createAuditMiddleware({ sinks: [{ type: 'file', path: file, flushIntervalMs: 1000 }] });
    const p = await startProxyServer({
      upstreamUrl: up.url,
      serverName: 'demo',
      middlewares: [a, bearerAuth],
    });
    const c = new Client({ name: 'audit-shutdown', version: '1.0.0' });
    const t = new StreamableHTTPClientTransport(new URL(p.url), {
      requestInit: { headers: { authorization: `Bearer ${TOKEN}` } },
    });
    await c.connect(t);
    for (let i = 0; i < 5; i++) await c.callTool({ name: 'echo', arguments: { text: `call ${i}` } });
    await c.close();
    await p.close();
    await a.close(); // what the runner does on SIGTERM after the server has drained
    const events = fs
      .readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    for (const e of events) assertValidEvent(e);
    const calls = events.filter((e) => e.type === 'mcp_tool_call');
    expect(calls).toHaveLength(5);
    expect(calls.every((e) => e.outcome === 'success')).toBe(true);
    expect(events[0].type).toBe('mcp_initialize'); // file order is request order
    expect(a.stats()).toMatchObject({ droppedEvents: 0 });
    expect(a.stats().sinks.file).toEqual({ written: events.length, dropped: 0, pending: 0 });
  });

  it('wrote the same events as schema-valid JSON lines to the file sink', async () => {
    await settled();
    const lines = fs.readFileSync(path.join(dir, 'audit.jsonl'), 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(8);
    for (const line of lines) assertValidEvent(JSON.parse(line));
    expect(fs.readFileSync(path.join(dir, 'audit.jsonl'), 'utf8')).not.toContain(TOKEN);
  });
});
