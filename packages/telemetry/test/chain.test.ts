/**
 * The middlewares inside a composed chain (no HTTP proxy): ownership without the edge layer, sampling,
 * streamed bodies, trace-off, telemetry-off and the main-port route.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from '@jest/globals';
import {
  composeChain,
  Exchange,
  type JsonRpcMessage,
  jsonResponse,
  type Middleware,
  ProxyHttpError,
  type ProxyResponse,
  type SseEvent,
  type Terminal,
} from '@bastion-mcp/proxy-core';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { createTelemetry, type Telemetry, TelemetryErrorCode } from '../src/index.js';
import { eventually, sampleValue, scrape } from './helpers.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT = `00-${TRACE_ID}-b7ad6b7169203331-01`;

function exchangeFor(
  rpc: JsonRpcMessage | undefined,
  headers: Record<string, string> = {},
  id = 'r1',
): Exchange {
  return new Exchange({
    request: {
      method: rpc === undefined ? 'GET' : 'POST',
      path: '/mcp',
      query: '',
      headers: { host: '127.0.0.1:8080', ...headers },
      body: Buffer.from(rpc === undefined ? '' : JSON.stringify(rpc)),
      remoteAddress: '127.0.0.1',
      protocol: 'http',
    },
    requestId: id,
    serverName: 'unit',
    route: 'streamable',
    rpc,
    upstreamHeaders: {},
    signal: new AbortController().signal,
  });
}

const call = (name: string, id: number | string = 1): JsonRpcMessage => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: {} },
});

const okTerminal: Terminal = async (ex) =>
  jsonResponse(200, { jsonrpc: '2.0', id: (ex.rpc as { id: number }).id, result: { content: [] } });

const instances: Telemetry[] = [];
async function telemetryWith(options: Parameters<typeof createTelemetry>[0]): Promise<Telemetry> {
  const t = await createTelemetry({ processMetrics: false, ...options });
  instances.push(t);
  return t;
}

afterAll(async () => {
  await Promise.all(instances.map((t) => t.shutdown()));
});

describe('telemetry middleware without the edge layer', () => {
  it('owns the span when it is the first telemetry layer, and never sees what outer layers refuse', async () => {
    const exporter = new InMemorySpanExporter();
    const t = await telemetryWith({ spanExporters: [exporter] });
    const outer401: Middleware = {
      name: 'auth',
      handle: async (ex, next) => {
        if (ex.request.headers['x-deny'] === '1') {
          throw new ProxyHttpError({ status: 401, rpcCode: -32001, publicMessage: 'no', code: 'ERR_T' });
        }
        return next();
      },
    };
    const chain = composeChain([outer401, t.middleware], okTerminal);
    await chain(exchangeFor(call('echo'), { traceparent: PARENT }));
    await expect(chain(exchangeFor(call('echo', 2), { 'x-deny': '1' }, 'r2'))).rejects.toThrow(
      ProxyHttpError,
    );
    const finished = exporter.getFinishedSpans();
    expect(finished.map((s) => s.name)).toEqual(['tools/call echo']);
    expect(finished[0]?.spanContext().traceId).toBe(TRACE_ID);
  });

  it('injects traceparent/tracestate/baggage into the upstream headers, replacing the client values', async () => {
    const t = await telemetryWith({ spanExporters: [new InMemorySpanExporter()] });
    let seen: Record<string, string> = {};
    const chain = composeChain([t.middleware], async (ex) => {
      seen = { ...ex.upstreamHeaders };
      return okTerminal(ex);
    });
    const ex = exchangeFor(call('echo'), {
      traceparent: PARENT,
      tracestate: 'vendor=abc',
      baggage: 'tenant=acme',
    });
    ex.upstreamHeaders.traceparent = PARENT;
    await chain(ex);
    expect(seen.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    expect(seen.traceparent).not.toBe(PARENT);
    expect(seen.tracestate).toBe('vendor=abc');
    expect(seen.baggage).toBe('tenant=acme');
  });

  it('prefers trace context from params._meta (SEP-414) over the HTTP headers', async () => {
    const exporter = new InMemorySpanExporter();
    const t = await telemetryWith({ spanExporters: [exporter] });
    const metaTrace = '1234567890abcdef1234567890abcdef';
    const rpc: JsonRpcMessage = {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'echo', _meta: { traceparent: `00-${metaTrace}-1234567890abcdef-01` } },
    };
    await composeChain([t.middleware], okTerminal)(exchangeFor(rpc, { traceparent: PARENT }));
    expect(exporter.getFinishedSpans()[0]?.spanContext().traceId).toBe(metaTrace);
  });

  it('uses the renamed (real upstream) tool name and keeps the client name as an attribute', async () => {
    const exporter = new InMemorySpanExporter();
    const t = await telemetryWith({ spanExporters: [exporter] });
    const rename: Middleware = {
      name: 'tool-filter',
      handle: (ex, next) => {
        ex.notes.clientToolName = 'search';
        ex.replaceRpc(call('crm_search'));
        return next();
      },
    };
    await composeChain([t.edge, rename, t.middleware], okTerminal)(exchangeFor(call('search')));
    const span = exporter.getFinishedSpans()[0];
    expect(span?.name).toBe('tools/call crm_search');
    expect(span?.attributes['gen_ai.tool.name']).toBe('crm_search');
    expect(span?.attributes['bastion.client_tool.name']).toBe('search');
  });

  it('records user.id only when recordUserId is on, and no arguments unless recordArguments is on', async () => {
    const exporter = new InMemorySpanExporter();
    const t = await telemetryWith({ spanExporters: [exporter] });
    const auth: Middleware = {
      name: 'auth',
      handle: (ex, next) => {
        ex.identity = { subject: 'alice', groups: [], roles: [], scopes: [], claims: {}, tokenKind: 'jwt' };
        return next();
      },
    };
    await composeChain([auth, t.middleware], okTerminal)(exchangeFor(call('echo')));
    const attrs = exporter.getFinishedSpans()[0]?.attributes ?? {};
    expect(attrs['user.id']).toBeUndefined();
    expect(attrs['gen_ai.tool.call.arguments']).toBeUndefined();

    const withUser = new InMemorySpanExporter();
    const t2 = await telemetryWith({ spanExporters: [withUser], recordUserId: true });
    await composeChain([auth, t2.middleware], okTerminal)(exchangeFor(call('echo')));
    expect(withUser.getFinishedSpans()[0]?.attributes['user.id']).toBe('alice');
  });

  it('ends the span only when an SSE body has been fully relayed, and sees tool errors inside it', async () => {
    const exporter = new InMemorySpanExporter();
    const t = await telemetryWith({ spanExporters: [exporter] });
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    async function* events(): AsyncGenerator<SseEvent> {
      yield {
        event: 'message',
        data: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: {} }),
      };
      await gate;
      yield {
        event: 'message',
        data: JSON.stringify({ jsonrpc: '2.0', id: 1, result: { isError: true, content: [] } }),
      };
    }
    const sse: ProxyResponse = {
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: { type: 'sse', events: events() },
    };
    const res = await composeChain([t.middleware], async () => sse)(exchangeFor(call('fail')));
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    const body = res.body;
    if (body.type !== 'sse') throw new Error('expected an SSE body');
    const iterator = body.events[Symbol.asyncIterator]();
    await iterator.next();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    release();
    while (!(await iterator.next()).done) {
      /* drain */
    }
    const span = exporter.getFinishedSpans()[0];
    expect(span?.attributes['error.type']).toBe('tool_error');
  });
});

describe('sampling', () => {
  it('sampleRatio 0 exports no spans but still propagates the trace id and counts metrics', async () => {
    const exporter = new InMemorySpanExporter();
    const t = await telemetryWith({ spanExporters: [exporter], sampleRatio: 0 });
    let seen = '';
    const chain = composeChain([t.edge, t.middleware], async (ex) => {
      seen = ex.upstreamHeaders.traceparent ?? '';
      return okTerminal(ex);
    });
    await chain(exchangeFor(call('echo'), { traceparent: `00-${TRACE_ID}-b7ad6b7169203331-00` }));
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    expect(seen).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-00$`));
    const server = await t.startMetricsServer({ port: 0 });
    const samples = await scrape(server.url);
    expect(sampleValue(samples, 'bastion_mcp_requests_total', { mcp_method: 'tools/call' })).toBe(1);
    await server.close();
  });

  it('follows a sampled client parent even with sampleRatio 0 (ParentBased)', async () => {
    const exporter = new InMemorySpanExporter();
    const t = await telemetryWith({ spanExporters: [exporter], sampleRatio: 0 });
    await composeChain([t.middleware], okTerminal)(exchangeFor(call('echo'), { traceparent: PARENT }));
    expect(exporter.getFinishedSpans()).toHaveLength(1);
  });
});

describe('switches', () => {
  it('traces: false records metrics but neither spans nor trace headers', async () => {
    const t = await telemetryWith({ traces: false });
    let headers: Record<string, string> = {};
    await composeChain([t.middleware], async (ex) => {
      headers = { ...ex.upstreamHeaders };
      return okTerminal(ex);
    })(exchangeFor(call('echo'), { traceparent: PARENT }));
    expect(headers.traceparent).toBeUndefined();
    const server = await t.startMetricsServer({ port: 0 });
    expect(sampleValue(await scrape(server.url), 'bastion_mcp_requests_total', {})).toBe(1);
    await server.close();
  });

  it('without a span exporter or OTLP endpoint starts no span and passes the client trace headers on unchanged', async () => {
    const t = await telemetryWith({});
    let headers: Record<string, string> = {};
    const ex = exchangeFor(call('echo'), { traceparent: PARENT, tracestate: 'vendor=abc' });
    ex.upstreamHeaders.traceparent = PARENT;
    ex.upstreamHeaders.tracestate = 'vendor=abc';
    await composeChain([t.edge, t.middleware], async (inner) => {
      headers = { ...inner.upstreamHeaders };
      return okTerminal(inner);
    })(ex);
    // No proxy span was made, so nothing replaced the client's own context.
    expect(headers.traceparent).toBe(PARENT);
    expect(headers.tracestate).toBe('vendor=abc');
    const server = await t.startMetricsServer({ port: 0 });
    expect(sampleValue(await scrape(server.url), 'bastion_mcp_requests_total', {})).toBe(1);
    await server.close();
  });

  it('enabled: false gives pass-through middlewares and no metrics endpoint', async () => {
    const t = await createTelemetry({ enabled: false });
    expect(t.enabled).toBe(false);
    expect(t.metricsHandler).toBeUndefined();
    const res = await composeChain([t.edge, t.middleware], okTerminal)(exchangeFor(call('echo')));
    expect(res.status).toBe(200);
    await expect(t.startMetricsServer()).rejects.toMatchObject({ code: TelemetryErrorCode.MetricsDisabled });
  });

  it('metricsOnMainPort exposes a GET route for the proxy server; prometheus: false removes it', async () => {
    const on = await telemetryWith({ metricsOnMainPort: true, metricsPath: '/m' });
    const route = on.middleware.routes?.[0];
    expect(route).toMatchObject({ method: 'GET', path: '/m' });
    const server: Server = createServer((req, res) => void route?.handle(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/m`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('# TYPE');
    await new Promise<void>((r) => server.close(() => r()));

    const off = await telemetryWith({ prometheus: false, metricsOnMainPort: true });
    expect(off.middleware.routes).toBeUndefined();
    expect(off.metricsHandler).toBeUndefined();
    await expect(off.startMetricsServer()).rejects.toMatchObject({
      code: TelemetryErrorCode.MetricsDisabled,
    });
  });

  it('fails with ERR_BASTION_TELEMETRY_LISTEN_FAILED when the metrics port is taken', async () => {
    const t = await telemetryWith({});
    const first = await t.startMetricsServer({ port: 0 });
    await expect(t.startMetricsServer({ port: first.port })).rejects.toMatchObject({
      code: TelemetryErrorCode.ListenFailed,
    });
    await first.close();
  });

  it('shutdown closes the metrics listener and is idempotent', async () => {
    const t = await createTelemetry({ processMetrics: true });
    const server = await t.startMetricsServer({ port: 0 });
    await Promise.all([t.shutdown(), t.shutdown()]);
    await expect(fetch(server.url)).rejects.toThrow();
    await expect(t.startMetricsServer({ port: 0 })).rejects.toMatchObject({
      code: TelemetryErrorCode.MetricsDisabled,
    });
  });
});

describe('CLIENT span kinds', () => {
  it('creates IdP spans without a request as roots (background refresh)', async () => {
    const exporter = new InMemorySpanExporter();
    await telemetryWith({ spanExporters: [exporter] });
    const { traceIdpCall } = await import('@bastion-mcp/proxy-core');
    await traceIdpCall(
      'discovery',
      'https://idp.example/.well-known/openid-configuration',
      undefined,
      async () => 1,
    );
    const span = await eventually(() => exporter.getFinishedSpans().find((s) => s.name === 'idp discovery'));
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.attributes['url.full']).toBe('https://idp.example/.well-known/openid-configuration');
  });
});
