/**
 * End to end: a real proxy (proxy-core `startProxyServer`), the testkit MCP upstream, a real MCP SDK
 * client, spans in an in-memory exporter and a real HTTP scrape of the Prometheus listener.
 *
 * Chain: [telemetry.edge, auth stand-in, telemetry.middleware, authz stand-in] (test/stand-ins.ts).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { channels, type ProxyServer, publishCacheLookup, startProxyServer } from '@bastion-mcp/proxy-core';
import { freePort, type McpUpstream, startMcpUpstream } from '@bastion-mcp/testkit';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createTelemetry, type MetricsServer, REDACTED, type Telemetry } from '../src/index.js';
import { authStandIn, authzStandIn } from './stand-ins.js';
import { eventually, type Sample, scrape, sampleValue } from './helpers.js';

const CLIENT_TRACE_ID = randomBytes(16).toString('hex');
const CLIENT_SPAN_ID = randomBytes(8).toString('hex');
const TRACEPARENT = `00-${CLIENT_TRACE_ID}-${CLIENT_SPAN_ID}-01`;
const FLOOD = 40;

function rpcPost(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

describe('telemetry through a real proxy', () => {
  let upstream: McpUpstream;
  let telemetry: Telemetry;
  let metrics: MetricsServer;
  let proxy: ProxyServer;
  let deadProxy: ProxyServer;
  let client: Client;
  let transport: StreamableHTTPClientTransport;
  const exporter = new InMemorySpanExporter();
  let listedTools: string[] = [];
  let before: Sample[];

  const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
  const serverSpan = (name: string, pred: (s: ReadableSpan) => boolean = () => true) =>
    eventually(() => spans().find((s) => s.kind === SpanKind.SERVER && s.name === name && pred(s)));

  beforeAll(async () => {
    upstream = await startMcpUpstream();
    telemetry = await createTelemetry({
      spanExporters: [exporter],
      recordArguments: true,
      recordUserId: true,
    });
    metrics = await telemetry.startMetricsServer({ port: 0 });
    before = await scrape(metrics.url);
    const idpUrl = `${upstream.origin}/.well-known/oauth-protected-resource/mcp`;
    proxy = await startProxyServer({
      upstreamUrl: upstream.url,
      serverName: 'demo',
      middlewares: [telemetry.edge, authStandIn(idpUrl, 'every-request'), telemetry.middleware, authzStandIn],
    });
    const dead = await freePort();
    deadProxy = await startProxyServer({
      upstreamUrl: `http://127.0.0.1:${dead}/mcp`,
      serverName: 'dead',
      middlewares: [telemetry.edge, telemetry.middleware],
    });

    transport = new StreamableHTTPClientTransport(new URL(proxy.url), {
      requestInit: { headers: { traceparent: TRACEPARENT } },
    });
    client = new Client({ name: 'telemetry-e2e', version: '1.0.0' });
    await client.connect(transport);
    listedTools = (await client.listTools()).tools.map((t) => t.name);
    await client.callTool({ name: 'echo', arguments: { text: 'hi', password: 'hunter2' } });
  });

  afterAll(async () => {
    await client?.close();
    await proxy?.close();
    await deadProxy?.close();
    await telemetry?.shutdown();
    await upstream?.close();
  });

  it('records a SERVER span "tools/call echo" with the MCP/GenAI semconv attributes', async () => {
    const span = await serverSpan('tools/call echo');
    expect(span.attributes).toMatchObject({
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'echo',
      'gen_ai.operation.name': 'execute_tool',
      'http.response.status_code': 200,
      'http.request.method': 'POST',
      'network.transport': 'tcp',
      'network.protocol.name': 'http',
      'bastion.server.name': 'demo',
    });
    expect(typeof span.attributes['jsonrpc.request.id']).toBe('string');
    expect(span.attributes['mcp.session.id']).toBe(transport.sessionId);
    expect(span.attributes['mcp.protocol.version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(span.attributes['error.type']).toBeUndefined();
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('records tool arguments only redacted', async () => {
    const span = await serverSpan('tools/call echo');
    const args = JSON.parse(String(span.attributes['gen_ai.tool.call.arguments']));
    expect(args).toEqual({ text: 'hi', password: REDACTED });
    expect(JSON.stringify(span.attributes)).not.toContain('hunter2');
  });

  it('records a SERVER span for tools/list', async () => {
    const span = await serverSpan('tools/list');
    expect(span.attributes['mcp.method.name']).toBe('tools/list');
    expect(span.attributes['gen_ai.tool.name']).toBeUndefined();
    expect(span.attributes['http.response.status_code']).toBe(200);
  });

  it("continues the client's trace: SERVER span child of the client span, upstream sees the same trace id", async () => {
    const server = await serverSpan('tools/call echo');
    expect(server.spanContext().traceId).toBe(CLIENT_TRACE_ID);
    expect(server.parentSpanContext?.spanId).toBe(CLIENT_SPAN_ID);
    const clientSpan = await eventually(() =>
      spans().find(
        (s) =>
          s.kind === SpanKind.CLIENT &&
          s.parentSpanContext?.spanId === server.spanContext().spanId &&
          s.name === 'POST',
      ),
    );
    expect(clientSpan.attributes['http.response.status_code']).toBe(200);
    const recorded = upstream
      .rpcRequests('tools/call')
      .find((r) => (r.body as { params?: { name?: string } }).params?.name === 'echo');
    const tp = String(recorded?.headers.traceparent);
    const [, traceId, parentId] = tp.split('-');
    expect(traceId).toBe(CLIENT_TRACE_ID);
    expect(parentId).toBe(clientSpan.spanContext().spanId);
    expect(parentId).not.toBe(CLIENT_SPAN_ID);
  });

  it('parents IdP CLIENT spans (from the diagnostics channel) to the SERVER span', async () => {
    const server = await serverSpan('tools/call echo');
    const idp = await eventually(() =>
      spans().find(
        (s) => s.name === 'idp jwks' && s.parentSpanContext?.spanId === server.spanContext().spanId,
      ),
    );
    expect(idp.kind).toBe(SpanKind.CLIENT);
    expect(idp.attributes['bastion.idp.kind']).toBe('jwks');
    expect(idp.attributes['http.response.status_code']).toBe(200);
  });

  it('records a 401 from an outer layer through the edge span, with error.type "401"', async () => {
    const res = await rpcPost(
      proxy.url,
      { jsonrpc: '2.0', id: 'deny-401', method: 'tools/list' },
      { 'x-test-deny': '401' },
    );
    expect(res.status).toBe(401);
    await res.arrayBuffer();
    const span = await serverSpan('tools/list', (s) => s.attributes['jsonrpc.request.id'] === 'deny-401');
    expect(span.attributes['http.response.status_code']).toBe(401);
    expect(span.attributes['error.type']).toBe('401');
    expect(span.attributes['bastion.rejected_by']).toBe('auth');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(
      spans().some(
        (s) =>
          s.kind === SpanKind.CLIENT &&
          s.name === 'POST' &&
          s.parentSpanContext?.spanId === span.spanContext().spanId,
      ),
    ).toBe(false);
  });

  it('records a 403 from an inner layer with the JSON-RPC code as error.type', async () => {
    const res = await rpcPost(proxy.url, {
      jsonrpc: '2.0',
      id: 'deny-403',
      method: 'tools/call',
      params: { name: 'delete_repo', arguments: { name: 'x' } },
    });
    expect(res.status).toBe(403);
    await res.arrayBuffer();
    const span = await serverSpan('tools/call delete_repo');
    expect(span.attributes).toMatchObject({
      'http.response.status_code': 403,
      'error.type': '-32003',
      'rpc.response.status_code': '-32003',
      'bastion.rejected_by': 'authz',
      'bastion.authz.decision': 'deny',
    });
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'Forbidden' });
  });

  it('records a 502 for a dead upstream: SERVER span error.type "502" and a failed CLIENT span', async () => {
    const res = await rpcPost(deadProxy.url, {
      jsonrpc: '2.0',
      id: 'dead-1',
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'x' } },
    });
    expect(res.status).toBe(502);
    await res.arrayBuffer();
    const span = await serverSpan('tools/call echo', (s) => s.attributes['bastion.server.name'] === 'dead');
    expect(span.attributes['http.response.status_code']).toBe(502);
    expect(span.attributes['error.type']).toBe('502');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    const upstreamSpan = await eventually(() =>
      spans().find(
        (s) => s.kind === SpanKind.CLIENT && s.parentSpanContext?.spanId === span.spanContext().spanId,
      ),
    );
    expect(upstreamSpan.attributes['error.type']).toBe('ERR_BASTION_PROXY_UPSTREAM_UNREACHABLE');
    expect(upstreamSpan.status.code).toBe(SpanStatusCode.ERROR);
  });

  describe('Prometheus scrape', () => {
    let after: Sample[];
    let otherBefore: number;

    beforeAll(async () => {
      // wait until every request above has finished (its span ended), then flood random tool names
      await serverSpan('tools/call delete_repo');
      await serverSpan('tools/call echo', (s) => s.attributes['bastion.server.name'] === 'dead');
      const mid = await scrape(metrics.url);
      otherBefore = sampleValue(mid, 'bastion_mcp_requests_total', { server: 'demo', tool: 'other' });
      const session = transport.sessionId ?? '';
      for (let i = 0; i < FLOOD; i++) {
        const res = await rpcPost(
          proxy.url,
          {
            jsonrpc: '2.0',
            id: `flood-${i}`,
            method: 'tools/call',
            params: { name: `rnd_${randomBytes(6).toString('hex')}`, arguments: {} },
          },
          { 'mcp-session-id': session },
        );
        await res.arrayBuffer();
      }
      await eventually(() =>
        spans().filter((s) => String(s.attributes['jsonrpc.request.id']).startsWith('flood-')).length ===
        FLOOD
          ? true
          : undefined,
      );
      publishCacheLookup('introspection', 'miss');
      channels.auditDropped.publish({ sink: 'file', reason: 'queue-full' });
      after = await scrape(metrics.url);
    });

    const delta = (name: string, match: Record<string, string>) =>
      sampleValue(after, name, match) - sampleValue(before, name, match);

    it('counts exactly the requests sent, by method, tool, outcome and status', () => {
      expect(
        delta('bastion_mcp_requests_total', {
          server: 'demo',
          mcp_method: 'initialize',
          status_code: '200',
          outcome: 'success',
        }),
      ).toBe(1);
      expect(
        delta('bastion_mcp_requests_total', {
          server: 'demo',
          mcp_method: 'notifications/initialized',
          status_code: '202',
        }),
      ).toBe(1);
      expect(
        delta('bastion_mcp_requests_total', {
          server: 'demo',
          mcp_method: 'tools/list',
          status_code: '200',
          outcome: 'success',
        }),
      ).toBe(1);
      expect(
        delta('bastion_mcp_requests_total', {
          server: 'demo',
          mcp_method: 'tools/list',
          status_code: '401',
          outcome: 'error',
        }),
      ).toBe(1);
      expect(
        delta('bastion_mcp_requests_total', {
          server: 'demo',
          mcp_method: 'tools/call',
          tool: 'echo',
          status_code: '200',
          outcome: 'success',
        }),
      ).toBe(1);
      expect(
        delta('bastion_mcp_requests_total', {
          server: 'demo',
          mcp_method: 'tools/call',
          tool: 'delete_repo',
          status_code: '403',
          outcome: 'error',
        }),
      ).toBe(1);
      expect(
        delta('bastion_mcp_requests_total', {
          server: 'dead',
          mcp_method: 'tools/call',
          status_code: '502',
          outcome: 'error',
        }),
      ).toBe(1);
      expect(
        delta('bastion_mcp_tool_calls_total', { server: 'demo', tool: 'echo', outcome: 'success' }),
      ).toBe(1);
      expect(
        delta('bastion_mcp_tool_calls_total', { server: 'demo', tool: 'delete_repo', outcome: 'error' }),
      ).toBe(1);
      expect(
        delta('bastion_mcp_request_duration_seconds_count', {
          server: 'demo',
          mcp_method: 'tools/call',
          tool: 'echo',
        }),
      ).toBe(1);
    });

    it('records the MCP semconv operation histogram with the semconv buckets', () => {
      const buckets = after
        .filter(
          (s) =>
            s.name === 'mcp_server_operation_duration_bucket' &&
            s.labels.mcp_method_name === 'tools/call' &&
            s.labels.gen_ai_tool_name === 'echo' &&
            s.labels.error_type === undefined,
        )
        .map((s) => s.labels.le);
      expect(buckets).toEqual([
        '0.01',
        '0.02',
        '0.05',
        '0.1',
        '0.2',
        '0.5',
        '1',
        '2',
        '5',
        '10',
        '30',
        '60',
        '120',
        '300',
        '+Inf',
      ]);
    });

    it('counts JSON-RPC errors inside HTTP 200 as rpc_error (unknown tools of the flood)', () => {
      const rpcErrors = delta('bastion_mcp_requests_total', {
        server: 'demo',
        tool: 'other',
        outcome: 'rpc_error',
      });
      const toolErrors = delta('bastion_mcp_requests_total', {
        server: 'demo',
        tool: 'other',
        outcome: 'tool_error',
      });
      expect(rpcErrors + toolErrors).toBe(FLOOD);
    });

    it('collapses a flood of random tool names to "other": the tool label set does not grow', () => {
      const toolLabels = new Set(
        after
          .filter((s) => s.name === 'bastion_mcp_requests_total' && s.labels.tool !== undefined)
          .map((s) => s.labels.tool),
      );
      for (const label of toolLabels) expect([...listedTools, 'other']).toContain(label);
      expect(toolLabels.size).toBeLessThanOrEqual(3);
      expect(
        sampleValue(after, 'bastion_mcp_requests_total', { server: 'demo', tool: 'other' }) - otherBefore,
      ).toBe(FLOOD);
    });

    it('records upstream latency, IdP calls, cache lookups and audit drops from the diagnostics channels', () => {
      expect(
        delta('bastion_upstream_request_duration_seconds_count', { server: 'demo', status_code: '200' }),
      ).toBeGreaterThanOrEqual(3);
      expect(
        delta('bastion_upstream_request_duration_seconds_count', {
          server: 'dead',
          status_code: 'none',
          error_type: 'ERR_BASTION_PROXY_UPSTREAM_UNREACHABLE',
        }),
      ).toBe(1);
      expect(
        delta('bastion_idp_request_duration_seconds_count', { kind: 'jwks', outcome: 'success' }),
      ).toBeGreaterThanOrEqual(6);
      expect(delta('bastion_cache_lookups_total', { cache: 'introspection', result: 'miss' })).toBe(1);
      expect(delta('bastion_audit_dropped_events_total', { sink: 'file', reason: 'queue-full' })).toBe(1);
      expect(delta('bastion_cache_lookups_total', { cache: 'jwks', result: 'hit' })).toBe(
        delta('bastion_idp_request_duration_seconds_count', { kind: 'jwks', outcome: 'success' }),
      );
    });

    it('exposes process metrics', () => {
      expect(sampleValue(after, 'process_resident_memory_bytes', {})).toBeGreaterThan(0);
      expect(sampleValue(after, 'process_cpu_seconds_total', {})).toBeGreaterThan(0);
      expect(after.some((s) => s.name === 'nodejs_heap_used_bytes')).toBe(true);
    });

    it('tracks the live SSE streams and returns to zero when the client goes away', async () => {
      expect(after.some((s) => s.name === 'bastion_mcp_active_sse_streams')).toBe(true);
      await client.close();
      await eventually(async () => {
        const now = await scrape(metrics.url);
        return sampleValue(now, 'bastion_mcp_active_sse_streams', { server: 'demo' }) === 0
          ? true
          : undefined;
      });
    });

    it('answers 404 outside the metrics path and 405 for POST', async () => {
      const base = metrics.url.replace(/\/metrics$/, '');
      expect((await fetch(`${base}/other`)).status).toBe(404);
      expect((await fetch(metrics.url, { method: 'POST' })).status).toBe(405);
    });
  });
});
