/**
 * The native series (request-metrics.ts) against the OpenTelemetry SDK's own instruments: the same calls
 * go to both, and the Prometheus text of both readers must be identical — attribute sets, their order,
 * counter values, histogram buckets (values on the boundaries included), sums, min/max, the cardinality
 * overflow — across several collections. Then, through `createTelemetry`: the process metrics after
 * the request metrics in one scope, the tool label following the known-tools guard, and delta
 * temporality handed to the SDK.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { composeChain, Exchange, type JsonRpcMessage, jsonResponse } from '@bastion-mcp/proxy-core';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { type DataPoint, type Histogram, MeterProvider, type MetricData } from '@opentelemetry/sdk-metrics';
import { createTelemetry, INSTRUMENTATION_SCOPE, MetricName, type Telemetry } from '../src/index.js';
import type { Instruments } from '../src/sdk/instruments.js';
import { CARDINALITY_LIMIT, nativeMetrics, sdkInstruments } from '../src/sdk/request-metrics.js';
import { eventually, sampleValue, scrape } from './helpers.js';

const SCOPE = { name: INSTRUMENTATION_SCOPE, version: '0.1.0' };
const serializer = new PrometheusSerializer(undefined, false, undefined, false, true);

/** SDK instruments and native series side by side, each behind its own Prometheus reader. */
function sideBySide() {
  const resource = resourceFromAttributes({ 'service.name': 'side-by-side' });
  const sdkReader = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
  const sdkProvider = new MeterProvider({ resource, readers: [sdkReader] });
  const sdk = sdkInstruments(sdkProvider.getMeter(SCOPE.name, SCOPE.version));
  const native = nativeMetrics(SCOPE, resource);
  const nativeReader = new PrometheusExporter({
    preventServerStart: true,
    withoutScopeInfo: true,
    metricProducers: [native.producer()],
  });
  const nativeProvider = new MeterProvider({ resource, readers: [nativeReader] });
  return {
    record(fn: (i: Instruments) => void) {
      fn(sdk);
      fn(native.instruments);
    },
    async collect() {
      const [a, b] = await Promise.all([sdkReader.collect(), nativeReader.collect()]);
      expect(a.errors).toEqual([]);
      expect(b.errors).toEqual([]);
      return { sdk: a.resourceMetrics, native: b.resourceMetrics };
    },
    async text() {
      const { sdk, native } = await this.collect();
      return { sdk: serializer.serialize(sdk), native: serializer.serialize(native) };
    },
    async shutdown() {
      await Promise.all([sdkProvider.shutdown(), nativeProvider.shutdown()]);
    },
  };
}

/** Bucket boundaries hit exactly, values between and beyond them. */
const BOUNDARY_DURATIONS = [0, 0.01, 0.0125, 0.02, 0.5, 1, 299.5, 300, 301, 7 / 1024, 3 / 64];
/**
 * Only binary fractions: their sums are exact whatever the order of additions. Over several
 * collections the SDK adds per-interval partial sums to the previous total while a native series keeps
 * one running sum, and with other values the two may differ in the last binary digit.
 */
const BINARY_DURATIONS = [0, 1 / 128, 3 / 256, 1 / 32, 0.5, 1, 299.5, 300, 301, 7 / 1024, 3 / 64];

/** A fixed mix of every call, label combination and value class (boundaries, NaN, negatives). */
function traffic(i: Instruments, round: number, durations: readonly number[]): void {
  const servers = ['crm', 'git'];
  const protocols = ['2025-06-18', undefined, 'garbage', '2025-03-26', '2025-06-18'];
  for (let n = 0; n < 40; n++) {
    const server = servers[n % 2]!;
    const seconds = durations[(n + round) % durations.length]!;
    const tool = n % 5 === 0 ? undefined : n % 5 === 1 ? 'other' : `tool_${n % 3}`;
    const method = tool === undefined ? (n % 10 === 0 ? 'tools/list' : 'unknown') : 'tools/call';
    const status = [200, 200, 403, 502, 202][n % 5]!;
    const outcome = ['success', 'rpc_error', 'error', 'error', 'tool_error'][n % 5]!;
    i.request(server, method, tool, outcome, status, seconds);
    const errorType = outcome === 'success' ? undefined : outcome === 'error' ? String(status) : outcome;
    const rpcCode = n % 7 === 0 ? 0 : n % 7 === 1 ? -32602 : undefined;
    i.operation(method, tool, errorType, rpcCode, protocols[n % protocols.length], seconds);
    i.upstream(
      server,
      n % 6 === 0 ? undefined : status,
      n % 6 === 0 ? 'ERR_UNREACHABLE' : undefined,
      seconds,
    );
    i.idp(n % 2 ? 'jwks' : 'token-exchange', n % 3 !== 0, n % 13 === 0 ? Number.NaN : seconds);
    i.cacheLookup(n % 2 ? 'jwks' : 'tools-list', n % 3 ? 'hit' : 'miss');
    if (n % 8 === 0) i.auditDropped('file', n % 16 ? 'queue-full' : 'sink-error');
    i.sseStream(server, n % 3 === 2 ? -1 : 1);
  }
  i.upstream('crm', 200, undefined, -1); // dropped, as the SDK drops negative histogram values
}

describe('native series vs SDK instruments', () => {
  it('give the same Prometheus text for the same calls (values on the bucket boundaries)', async () => {
    const s = sideBySide();
    try {
      s.record((i) => {
        traffic(i, 0, BOUNDARY_DURATIONS);
        traffic(i, 1, BOUNDARY_DURATIONS);
      });
      const { sdk, native } = await s.text();
      expect(native).toBe(sdk);
      expect(native).toContain('le="0.01"} ');
    } finally {
      await s.shutdown();
    }
  });

  it('give the same Prometheus text collection after collection (cumulative)', async () => {
    const s = sideBySide();
    try {
      for (let round = 0; round < 3; round++) {
        s.record((i) => traffic(i, round, BINARY_DURATIONS));
        const { sdk, native } = await s.text();
        expect(native).toBe(sdk);
        expect(native).toContain('bastion_mcp_requests_total{server="crm",mcp_method="tools/call"');
        expect(native).toContain('rpc_response_status_code="0"');
        expect(native).toContain('mcp_protocol_version="2025-03-26"');
      }
    } finally {
      await s.shutdown();
    }
  });

  it('export the same points: types, temporality, min/max; start times fixed from creation', async () => {
    const s = sideBySide();
    try {
      const before: number = Date.now();
      s.record((i) => traffic(i, 0, BINARY_DURATIONS));
      const after: number = Date.now();
      const first = await s.collect();
      s.record((i) => traffic(i, 1, BINARY_DURATIONS));
      const second = await s.collect();
      const shape = (metrics: MetricData[]) =>
        metrics.map((m) => ({
          descriptor: {
            name: m.descriptor.name,
            description: m.descriptor.description,
            unit: m.descriptor.unit,
            valueType: m.descriptor.valueType,
          },
          aggregationTemporality: m.aggregationTemporality,
          dataPointType: m.dataPointType,
          isMonotonic: 'isMonotonic' in m ? m.isMonotonic : undefined,
          points: (m.dataPoints as DataPoint<unknown>[]).map((p) => ({
            attributes: p.attributes,
            value: p.value,
          })),
        }));
      for (const { sdk, native } of [first, second]) {
        expect(native.scopeMetrics.map((x) => x.scope)).toEqual([SCOPE]);
        expect(sdk.scopeMetrics).toHaveLength(1);
        expect(shape(native.scopeMetrics[0]!.metrics)).toEqual(shape(sdk.scopeMetrics[0]!.metrics));
      }
      const starts = (rm: typeof first.native) =>
        rm.scopeMetrics[0]!.metrics.flatMap((m) =>
          (m.dataPoints as DataPoint<unknown>[]).map((p) => p.startTime),
        );
      const firstStarts = starts(first.native);
      expect(starts(second.native).slice(0, firstStarts.length)).toEqual(firstStarts);
      for (const [sec, nanos] of firstStarts) {
        const ms = sec * 1000 + nanos / 1e6;
        expect(ms).toBeGreaterThanOrEqual(before);
        expect(ms).toBeLessThanOrEqual(after);
      }
      const histogram = second.native.scopeMetrics[0]!.metrics.find(
        (m) => m.descriptor.name === MetricName.RequestDuration,
      )!.dataPoints[0] as DataPoint<Histogram>;
      expect(histogram.value.min).toBeDefined();
      expect(histogram.value.count).toBeGreaterThan(1);
    } finally {
      await s.shutdown();
    }
  });

  it('overflow past the cardinality limit into {otel_metric_overflow="true"}, as the SDK does', async () => {
    const s = sideBySide();
    try {
      s.record((i) => {
        for (let n = 0; n < CARDINALITY_LIMIT + 50; n++) {
          i.request('crm', `method_${n}`, undefined, 'success', 200, 0.001 * (n % 7));
          i.cacheLookup(`cache_${n}`, 'hit');
        }
        // a series created before the limit keeps counting on its own
        i.request('crm', 'method_3', undefined, 'success', 200, 0.5);
        i.cacheLookup('cache_3', 'hit');
      });
      const { sdk, native } = await s.text();
      expect(native).toBe(sdk);
      expect(native).toContain('bastion_mcp_requests_total{otel_metric_overflow="true"} 51');
      expect(native).toContain('bastion_cache_lookups_total{otel_metric_overflow="true"} 51');
      expect(native).toContain(
        'bastion_mcp_requests_total{server="crm",mcp_method="method_3",outcome="success",status_code="200"} 2',
      );
    } finally {
      await s.shutdown();
    }
  });

  it('emit nothing (no scope) before the first sample', async () => {
    const s = sideBySide();
    try {
      const { sdk, native } = await s.collect();
      expect(native.scopeMetrics).toEqual([]);
      expect(sdk.scopeMetrics).toEqual([]);
    } finally {
      await s.shutdown();
    }
  });
});

// ---- through createTelemetry ----

function exchangeFor(rpc: JsonRpcMessage, id: string, headers: Record<string, string> = {}): Exchange {
  return new Exchange({
    request: {
      method: 'POST',
      path: '/mcp',
      query: '',
      headers: { 'mcp-protocol-version': '2025-06-18', ...headers },
      body: Buffer.from(JSON.stringify(rpc)),
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

/** Upstream stand-in: tools/list lists `echo`, anything else succeeds. */
const terminal = async (ex: Exchange) => {
  const rpc = ex.rpc as { id: number; method: string };
  return jsonResponse(200, {
    jsonrpc: '2.0',
    id: rpc.id,
    result: rpc.method === 'tools/list' ? { tools: [{ name: 'echo', inputSchema: { type: 'object' } }] } : {},
  });
};

async function run(t: Telemetry, rpc: JsonRpcMessage, id: string, headers?: Record<string, string>) {
  const res = await composeChain([t.middleware], terminal)(exchangeFor(rpc, id, headers));
  expect(res.status).toBe(200);
}

const call = (id: number, name: string): JsonRpcMessage => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: {} },
});

interface OtlpBody {
  resourceMetrics: {
    scopeMetrics: {
      scope: unknown;
      metrics: {
        name: string;
        sum?: { aggregationTemporality: number; dataPoints: { asDouble: number }[] };
        histogram?: { aggregationTemporality: number; dataPoints: { count: number }[] };
      }[];
    }[];
  }[];
}

async function otlpCollector(): Promise<{ server: Server; endpoint: string; bodies: OtlpBody[] }> {
  const bodies: OtlpBody[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/metrics') bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies };
}

describe('metrics through createTelemetry', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  afterAll(() => {
    delete process.env.OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE;
  });

  it('labels a tool "other" until a tools/list named it, then by its name (the series follow the guard)', async () => {
    const t = await createTelemetry({ processMetrics: false });
    cleanups.push(() => t.shutdown());
    const server = await t.startMetricsServer({ port: 0 });
    await run(t, call(1, 'echo'), 'a');
    await run(t, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, 'b');
    await run(t, call(3, 'echo'), 'c');
    await run(t, call(4, 'echo'), 'd');
    const samples = await scrape(server.url);
    const calls = (tool: string) =>
      sampleValue(samples, 'bastion_mcp_requests_total', { mcp_method: 'tools/call', tool });
    expect([calls('other'), calls('echo')]).toEqual([1, 2]);
    expect(sampleValue(samples, 'bastion_mcp_tool_calls_total', { tool: 'other' })).toBe(1);
    expect(sampleValue(samples, 'mcp_server_operation_duration_count', { gen_ai_tool_name: 'echo' })).toBe(2);
  });

  it('keeps the process metrics after the request metrics, in one scope, for both readers and the last export', async () => {
    const collector = await otlpCollector();
    cleanups.push(() => new Promise<void>((r) => collector.server.close(() => r())));
    const t = await createTelemetry({
      processMetrics: true,
      otlp: { endpoint: collector.endpoint, traces: false, metricsIntervalMs: 3_600_000 },
    });
    const server = await t.startMetricsServer({ port: 0 });
    await run(t, call(1, 'echo'), 'a');
    const text = await (await fetch(server.url)).text();
    const families = [...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]);
    const processFamilies = [
      'process_resident_memory_bytes',
      'nodejs_heap_used_bytes',
      'process_cpu_seconds_total',
      'nodejs_eventloop_delay_seconds',
      'process_uptime_seconds',
    ];
    expect(families.slice(0, 4)).toEqual([
      'target_info',
      'bastion_mcp_requests_total',
      'bastion_mcp_request_duration_seconds',
      'bastion_mcp_tool_calls_total',
    ]);
    const tail = families.slice(families.indexOf('mcp_server_operation_duration') + 1);
    expect(tail).toEqual(processFamilies.filter((f) => tail.includes(f)));
    expect(tail).toContain('process_resident_memory_bytes');
    expect(tail).toContain('process_uptime_seconds');
    // shutdown: the periodic reader's last export still reads the process metrics
    await t.shutdown();
    const last = await eventually(() => collector.bodies.at(-1));
    const scopes = last.resourceMetrics[0]!.scopeMetrics;
    expect(scopes.map((s) => s.scope)).toEqual([SCOPE]);
    const names = scopes[0]!.metrics.map((m) => m.name);
    expect(names.slice(0, 4)).toEqual([
      MetricName.Requests,
      MetricName.RequestDuration,
      MetricName.ToolCalls,
      MetricName.OperationDuration,
    ]);
    expect(names).toContain(MetricName.ProcessRss);
    expect(names.indexOf(MetricName.ProcessRss)).toBeGreaterThan(names.indexOf(MetricName.OperationDuration));
  });

  it('hands the request metrics to SDK instruments when OTLP wants delta temporality', async () => {
    process.env.OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE = 'delta';
    const collector = await otlpCollector();
    cleanups.push(() => new Promise<void>((r) => collector.server.close(() => r())));
    const t = await createTelemetry({
      processMetrics: false,
      otlp: { endpoint: collector.endpoint, traces: false, metricsIntervalMs: 3_600_000 },
    });
    delete process.env.OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE;
    cleanups.push(() => t.shutdown());
    const server = await t.startMetricsServer({ port: 0 });
    const exported = async () => {
      const n = collector.bodies.length;
      await t.forceFlush();
      const body = await eventually(() => collector.bodies[n]);
      const metrics = body.resourceMetrics[0]!.scopeMetrics[0]!.metrics;
      const requests = metrics.find((m) => m.name === MetricName.Requests)!.sum!;
      const duration = metrics.find((m) => m.name === MetricName.RequestDuration)!.histogram!;
      return {
        temporality: [requests.aggregationTemporality, duration.aggregationTemporality],
        requests: requests.dataPoints.map((p) => p.asDouble),
        durations: duration.dataPoints.map((p) => Number(p.count)),
      };
    };
    await run(t, call(1, 'echo'), 'a');
    await run(t, call(2, 'echo'), 'b');
    expect(await exported()).toEqual({ temporality: [1, 1], requests: [2], durations: [2] });
    await run(t, call(3, 'echo'), 'c');
    expect(await exported()).toEqual({ temporality: [1, 1], requests: [1], durations: [1] });
    const samples = await scrape(server.url);
    expect(sampleValue(samples, 'bastion_mcp_requests_total', { mcp_method: 'tools/call' })).toBe(3);
  });
});
