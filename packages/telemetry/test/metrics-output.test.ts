/**
 * The exact metric output for known traffic: a real proxy (proxy-core `startProxyServer`) in front of
 * the testkit MCP upstream, requests sent one by one, then the whole Prometheus text of the scrape and
 * the OTLP/HTTP JSON export compared with the text and the points computed here from the traffic —
 * HELP/UNIT/TYPE lines, series order, label names, order and values, counter values, histogram
 * `_count`, `le` lists and buckets. Durations are not known in advance: for every histogram series the
 * buckets must be cumulative, end at `_count` and hold the sum, and the OTLP points must agree with the
 * Prometheus ones.
 *
 * Chain: [telemetry.edge, auth stand-in, telemetry.middleware, authz stand-in] (test/stand-ins.ts).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { channels, type ProxyServer, publishCacheLookup, startProxyServer } from '@bastion-mcp/proxy-core';
import { freePort, type McpUpstream, startMcpUpstream } from '@bastion-mcp/testkit';
import {
  createTelemetry,
  INSTRUMENTATION_SCOPE,
  MCP_DURATION_BUCKETS_SECONDS,
  MetricName,
  type Telemetry,
} from '../src/index.js';
import { authStandIn, authzStandIn } from './stand-ins.js';
import { eventually } from './helpers.js';

const PROTOCOL = '2025-06-18';

// ---- the expected Prometheus text, written from the traffic ----

type Labels = ReadonlyArray<readonly [string, string]>;
const labelText = (labels: Labels): string =>
  labels.length === 0 ? '' : `{${labels.map(([k, v]) => `${k}="${v}"`).join(',')}}`;

function header(name: string, help: string, unit: string, type: string): string[] {
  return [`# HELP ${name} ${help}`, `# UNIT ${name} ${unit}`, `# TYPE ${name} ${type}`];
}

function counterText(name: string, help: string, unit: string, type: string, series: [Labels, number][]) {
  return [...header(name, help, unit, type), ...series.map(([l, v]) => `${name}${labelText(l)} ${v}`)];
}

/** Histogram lines with `<sum>` and `<bucket>` placeholders for what depends on measured durations. */
function histogramText(name: string, help: string, series: [Labels, number][]) {
  const lines = header(name, help, 's', 'histogram');
  for (const [labels, count] of series) {
    lines.push(`${name}_count${labelText(labels)} ${count}`, `${name}_sum${labelText(labels)} <sum>`);
    for (const le of MCP_DURATION_BUCKETS_SECONDS) {
      lines.push(`${name}_bucket${labelText([...labels, ['le', String(le)]])} <bucket>`);
    }
    lines.push(`${name}_bucket${labelText([...labels, ['le', '+Inf']])} ${count}`);
  }
  return lines;
}

interface HistogramSeries {
  count: number;
  sum: number;
  buckets: number[];
}

/**
 * Check every histogram series of the scrape (cumulative buckets ending at `_count`, a sum the buckets
 * allow) and replace the duration-dependent values by placeholders; returns the series by name+labels.
 */
function normalize(text: string): { text: string; histograms: Map<string, HistogramSeries> } {
  const histograms = new Map<string, HistogramSeries>();
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\w+)_(count|sum|bucket)(\{.*\})? (\S+)$/.exec(line);
    const isHistogram = m !== null && /_seconds$|_duration$/.test(m[1]!);
    if (!isHistogram) {
      out.push(line);
      continue;
    }
    const [, name, part, rawLabels = '', value] = m;
    const key = `${name}${rawLabels.replace(/,?le="[^"]*"/, '').replace('{}', '')}`;
    let h = histograms.get(key);
    if (h === undefined) {
      h = { count: 0, sum: 0, buckets: [] };
      histograms.set(key, h);
    }
    if (part === 'count') h.count = Number(value);
    if (part === 'sum') h.sum = Number(value);
    if (part === 'bucket') h.buckets.push(Number(value));
    const infinite = rawLabels.includes('le="+Inf"');
    out.push(
      part === 'sum'
        ? line.replace(/ \S+$/, ' <sum>')
        : part === 'bucket' && !infinite
          ? line.replace(/ \S+$/, ' <bucket>')
          : line,
    );
  }
  for (const [key, h] of histograms) {
    expect({ key, buckets: h.buckets.length }).toEqual({
      key,
      buckets: MCP_DURATION_BUCKETS_SECONDS.length + 1,
    });
    for (let i = 1; i < h.buckets.length; i++) expect(h.buckets[i]).toBeGreaterThanOrEqual(h.buckets[i - 1]!);
    expect(h.buckets.at(-1)).toBe(h.count);
    // every value of bucket i is ≤ its bound, so the sum is at most Σ count_i × bound_i (+Inf aside)
    expect(h.sum).toBeGreaterThanOrEqual(0);
    if (h.buckets[MCP_DURATION_BUCKETS_SECONDS.length - 1] === h.count) {
      let bound = 0;
      let prev = 0;
      h.buckets.slice(0, -1).forEach((c, i) => {
        bound += (c - prev) * MCP_DURATION_BUCKETS_SECONDS[i]!;
        prev = c;
      });
      expect(h.sum).toBeLessThanOrEqual(bound + 1e-9);
    }
  }
  return { text: out.join('\n'), histograms };
}

// ---- traffic ----

interface Sent {
  status: number;
  contentType: string;
}

describe('metric output for known traffic (Prometheus text and OTLP JSON)', () => {
  let upstream: McpUpstream;
  let telemetry: Telemetry;
  let proxy: ProxyServer;
  let deadProxy: ProxyServer;
  let collector: Server;
  const otlpBodies: unknown[] = [];
  let scraped: string;
  let requestsSeen = 0;

  const requestsTotal = async (): Promise<number> => {
    const text = await (await fetch(metricsUrl)).text();
    let total = 0;
    for (const m of text.matchAll(/^bastion_mcp_requests_total\{.*\} (\S+)$/gm)) total += Number(m[1]);
    return total;
  };
  let metricsUrl = '';

  /** POST one JSON-RPC message, read the whole answer, wait until telemetry finished the request. */
  async function send(
    url: string,
    body: unknown,
    headers: Record<string, string> = { 'mcp-protocol-version': PROTOCOL },
  ): Promise<Sent> {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...headers,
      },
      body: JSON.stringify(body),
    });
    await res.arrayBuffer();
    requestsSeen += 1;
    await eventually(async () => ((await requestsTotal()) === requestsSeen ? true : undefined));
    return { status: res.status, contentType: res.headers.get('content-type') ?? '' };
  }
  const call = (id: number, name: string, args: Record<string, unknown> = {}) => ({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name, arguments: args },
  });

  const answers: Sent[] = [];

  beforeAll(async () => {
    upstream = await startMcpUpstream({ stateless: true });
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/v1/metrics') otlpBodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    telemetry = await createTelemetry({
      serviceName: 'metrics-output',
      processMetrics: false,
      otlp: {
        endpoint: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
        traces: false,
        metricsIntervalMs: 3_600_000,
      },
    });
    const metrics = await telemetry.startMetricsServer({ port: 0 });
    metricsUrl = metrics.url;
    const idpUrl = `${upstream.origin}/.well-known/oauth-protected-resource/mcp`;
    proxy = await startProxyServer({
      upstreamUrl: upstream.url,
      serverName: 'demo',
      middlewares: [telemetry.edge, authStandIn(idpUrl, 'on-header'), telemetry.middleware, authzStandIn],
    });
    deadProxy = await startProxyServer({
      upstreamUrl: `http://127.0.0.1:${await freePort()}/mcp`,
      serverName: 'dead',
      middlewares: [telemetry.edge, telemetry.middleware],
    });

    const initialize = {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'm', version: '1' } },
    };
    answers.push(await send(proxy.url, initialize, {})); // protocol version from the body
    answers.push(await send(proxy.url, { jsonrpc: '2.0', method: 'notifications/initialized' }));
    answers.push(await send(proxy.url, { jsonrpc: '2.0', id: 1, method: 'tools/list' }));
    answers.push(await send(proxy.url, call(2, 'echo', { text: 'a' })));
    answers.push(
      await send(proxy.url, call(3, 'echo', { text: 'b' }), {
        'mcp-protocol-version': PROTOCOL,
        'x-test-idp': '1',
      }),
    );
    answers.push(await send(proxy.url, call(4, 'fail')));
    answers.push(await send(proxy.url, call(5, 'throw')));
    answers.push(await send(proxy.url, call(6, 'delete_repo', { name: 'x' })));
    answers.push(
      await send(
        proxy.url,
        { jsonrpc: '2.0', id: 7, method: 'tools/list' },
        { 'mcp-protocol-version': PROTOCOL, 'x-test-deny': '401' },
      ),
    );
    answers.push(await send(proxy.url, call(8, 'not_listed')));
    answers.push(
      await send(proxy.url, call(9, 'echo', { text: 'c' }), { 'mcp-protocol-version': 'garbage' }),
    );
    answers.push(await send(deadProxy.url, call(10, 'echo', { text: 'd' })));
    publishCacheLookup('introspection', 'miss');
    channels.auditDropped.publish({ sink: 'file', reason: 'queue-full' });
    // SSE streams are closed by the time the requests above finished
    await eventually(async () =>
      /bastion_mcp_active_sse_streams\{server="demo"\} 0\n/.test(await (await fetch(metricsUrl)).text())
        ? true
        : undefined,
    );
    scraped = await (await fetch(metricsUrl)).text();
    await telemetry.forceFlush();
    await telemetry.forceFlush();
    await eventually(() => (otlpBodies.length >= 2 ? true : undefined));
  });

  afterAll(async () => {
    await proxy?.close();
    await deadProxy?.close();
    await telemetry?.shutdown();
    await upstream?.close();
    await new Promise<void>((r) => collector?.close(() => r()));
  });

  it('answered the traffic as the expected text assumes', () => {
    // the upstream refuses the malformed protocol version with a 400; the dead upstream is a 502
    expect(answers.map((a) => a.status)).toEqual([
      200, 202, 200, 200, 200, 200, 200, 403, 401, 200, 400, 502,
    ]);
    expect(answers[3]!.contentType).toContain('text/event-stream');
  });

  it('prints the Prometheus text computed from the traffic', () => {
    const demo = ['server', 'demo'] as const;
    const req = (server: string, method: string, outcome: string, status: string, tool?: string): Labels => [
      ['server', server],
      ['mcp_method', method],
      ['outcome', outcome],
      ['status_code', status],
      ...(tool === undefined ? [] : ([['tool', tool]] as Labels)),
    ];
    const requestSeries: [Labels, number][] = [
      [req('demo', 'initialize', 'success', '200'), 1],
      [req('demo', 'notifications/initialized', 'success', '202'), 1],
      [req('demo', 'tools/list', 'success', '200'), 1],
      [req('demo', 'tools/call', 'success', '200', 'echo'), 2],
      [req('demo', 'tools/call', 'tool_error', '200', 'fail'), 1],
      [req('demo', 'tools/call', 'rpc_error', '200', 'throw'), 1],
      [req('demo', 'tools/call', 'error', '403', 'delete_repo'), 1],
      [req('demo', 'tools/list', 'error', '401'), 1],
      [req('demo', 'tools/call', 'rpc_error', '200', 'other'), 1],
      [req('demo', 'tools/call', 'error', '400', 'echo'), 1],
      [req('dead', 'tools/call', 'error', '502', 'echo'), 1],
    ];
    const op = (method: string, tool?: string, error?: string, rpc?: string, protocol = true): Labels => [
      ['mcp_method_name', method],
      ['network_transport', 'tcp'],
      ['network_protocol_name', 'http'],
      ...(tool === undefined
        ? []
        : ([
            ['gen_ai_tool_name', tool],
            ['gen_ai_operation_name', 'execute_tool'],
          ] as Labels)),
      ...(error === undefined ? [] : ([['error_type', error]] as Labels)),
      ...(rpc === undefined ? [] : ([['rpc_response_status_code', rpc]] as Labels)),
      ...(protocol ? ([['mcp_protocol_version', PROTOCOL]] as Labels) : []),
    ];
    const expected = [
      '# HELP target_info Target metadata',
      '# TYPE target_info gauge',
      'target_info{service_name="metrics-output"} 1',
      ...counterText(
        'bastion_mcp_requests_total',
        'MCP requests handled by the proxy, by method, tool, outcome and HTTP status',
        '{request}',
        'counter',
        requestSeries,
      ),
      ...histogramText(
        'bastion_mcp_request_duration_seconds',
        'Duration of MCP requests through the proxy, until the response body ended',
        requestSeries,
      ),
      ...counterText(
        'bastion_mcp_tool_calls_total',
        'tools/call requests by tool and outcome',
        '{call}',
        'counter',
        [
          [[demo, ['tool', 'echo'], ['outcome', 'success']], 2],
          [[demo, ['tool', 'fail'], ['outcome', 'tool_error']], 1],
          [[demo, ['tool', 'throw'], ['outcome', 'rpc_error']], 1],
          [[demo, ['tool', 'delete_repo'], ['outcome', 'error']], 1],
          [[demo, ['tool', 'other'], ['outcome', 'rpc_error']], 1],
          [[demo, ['tool', 'echo'], ['outcome', 'error']], 1],
          [
            [
              ['server', 'dead'],
              ['tool', 'echo'],
              ['outcome', 'error'],
            ],
            1,
          ],
        ],
      ),
      ...histogramText('mcp_server_operation_duration', 'MCP request duration as observed by the server', [
        [op('initialize'), 1],
        [op('notifications/initialized'), 1],
        [op('tools/list'), 1],
        [op('tools/call', 'echo'), 2],
        [op('tools/call', 'fail', 'tool_error'), 1],
        [op('tools/call', 'throw', '-32603', '-32603'), 1],
        [op('tools/call', 'delete_repo', '-32003', '-32003'), 1],
        [op('tools/list', undefined, '401'), 1],
        [op('tools/call', 'other', '-32602', '-32602'), 1],
        [op('tools/call', 'echo', '400', undefined, false), 1],
        [op('tools/call', 'echo', '502', '-32603'), 1],
      ]),
      ...counterText(
        'bastion_mcp_active_sse_streams',
        'SSE streams currently relayed to clients',
        '{stream}',
        'gauge',
        [[[demo], 0]],
      ),
      ...histogramText(
        'bastion_upstream_request_duration_seconds',
        'Time until the remote MCP server answered with headers (or failed)',
        [
          [[demo, ['status_code', '200']], 7],
          [[demo, ['status_code', '202']], 1],
          [[demo, ['status_code', '400']], 1],
          [
            [
              ['server', 'dead'],
              ['status_code', 'none'],
              ['error_type', 'ERR_BASTION_PROXY_UPSTREAM_UNREACHABLE'],
            ],
            1,
          ],
        ],
      ),
      ...histogramText(
        'bastion_idp_request_duration_seconds',
        'Calls to the identity provider (JWKS, introspection, STS)',
        [
          [
            [
              ['kind', 'jwks'],
              ['outcome', 'success'],
            ],
            1,
          ],
        ],
      ),
      ...counterText(
        'bastion_cache_lookups_total',
        'Lookups in the shared caches (jwks, introspection, token-exchange, tools-list) by result',
        '{lookup}',
        'counter',
        [
          [
            [
              ['cache', 'jwks'],
              ['result', 'hit'],
            ],
            11,
          ],
          [
            [
              ['cache', 'introspection'],
              ['result', 'miss'],
            ],
            1,
          ],
        ],
      ),
      ...counterText(
        'bastion_audit_dropped_events_total',
        'Audit events that could not be written',
        '{event}',
        'counter',
        [
          [
            [
              ['sink', 'file'],
              ['reason', 'queue-full'],
            ],
            1,
          ],
        ],
      ),
      '',
    ];
    expect(normalize(scraped).text.split('\n')).toEqual(expected);
  });

  it('exports the same points over OTLP: one scope, cumulative, the SDK metric names', () => {
    const [first, second] = otlpBodies as OtlpBody[];
    expect(first!.resourceMetrics).toHaveLength(1);
    const scopes = first!.resourceMetrics[0]!.scopeMetrics;
    expect(scopes.map((s) => s.scope)).toEqual([{ name: INSTRUMENTATION_SCOPE, version: '0.1.0' }]);
    const metrics = scopes[0]!.metrics;
    expect(metrics.map((m) => m.name)).toEqual([
      MetricName.Requests,
      MetricName.RequestDuration,
      MetricName.ToolCalls,
      MetricName.OperationDuration,
      MetricName.ActiveSseStreams,
      MetricName.UpstreamDuration,
      MetricName.IdpDuration,
      MetricName.CacheLookups,
      MetricName.AuditDropped,
    ]);
    // the OTLP points are the Prometheus ones: same series, order, values and sums
    const prometheus = scraped.split('\n').slice(3);
    expect(otlpAsPrometheus(metrics)).toEqual(prometheus);

    const points = metrics.flatMap((m) => (m.sum ?? m.histogram)!.dataPoints);
    const end = points[0]!.timeUnixNano;
    for (const m of metrics) expect((m.sum ?? m.histogram)!.aggregationTemporality).toBe(2);
    for (const p of points) {
      expect(p.timeUnixNano).toBe(end);
      expect(BigInt(p.startTimeUnixNano)).toBeLessThanOrEqual(BigInt(end));
      if (p.bucketCounts !== undefined) {
        expect(p.min).toBeLessThanOrEqual(p.max!);
        expect(p.min).toBeGreaterThanOrEqual(0);
        expect(p.min! * Number(p.count)).toBeLessThanOrEqual(p.sum! + 1e-9);
        expect(p.max! * Number(p.count)).toBeGreaterThanOrEqual(p.sum! - 1e-9);
      } else {
        expect(p.asInt).toBeUndefined();
      }
    }
    // a second collection (no traffic in between): same values, same start times, later end
    const again = second!.resourceMetrics[0]!.scopeMetrics[0]!.metrics;
    expect(otlpAsPrometheus(again)).toEqual(prometheus);
    const points2 = again.flatMap((m) => (m.sum ?? m.histogram)!.dataPoints);
    expect(points2.map((p) => p.startTimeUnixNano)).toEqual(points.map((p) => p.startTimeUnixNano));
    expect(BigInt(points2[0]!.timeUnixNano)).toBeGreaterThanOrEqual(BigInt(end));
  });
});

interface OtlpPoint {
  attributes: { key: string; value: { stringValue?: string; boolValue?: boolean } }[];
  startTimeUnixNano: string;
  timeUnixNano: string;
  asDouble?: number;
  asInt?: unknown;
  count?: number | string;
  sum?: number;
  min?: number;
  max?: number;
  bucketCounts?: (number | string)[];
  explicitBounds?: number[];
}
interface OtlpMetric {
  name: string;
  description: string;
  unit: string;
  sum?: { dataPoints: OtlpPoint[]; aggregationTemporality: number; isMonotonic: boolean };
  histogram?: { dataPoints: OtlpPoint[]; aggregationTemporality: number };
}
interface OtlpBody {
  resourceMetrics: { scopeMetrics: { scope: unknown; metrics: OtlpMetric[] }[] }[];
}

/** The Prometheus lines the exporter's rules give for OTLP JSON metrics (names, `_total`, buckets). */
function otlpAsPrometheus(metrics: readonly OtlpMetric[]): string[] {
  const lines: string[] = [];
  const attrs = (p: OtlpPoint): Labels =>
    p.attributes.map((a) => [
      a.key.replace(/[^a-zA-Z0-9_]/g, '_'),
      String(a.value.stringValue ?? a.value.boolValue),
    ]);
  for (const m of metrics) {
    const base = m.name.replace(/[^a-zA-Z0-9_]/g, '_');
    if (m.sum !== undefined) {
      const name = m.sum.isMonotonic ? `${base}_total` : base;
      lines.push(...header(name, m.description, m.unit, m.sum.isMonotonic ? 'counter' : 'gauge'));
      for (const p of m.sum.dataPoints) lines.push(`${name}${labelText(attrs(p))} ${p.asDouble}`);
    } else if (m.histogram !== undefined) {
      lines.push(...header(base, m.description, m.unit, 'histogram'));
      for (const p of m.histogram.dataPoints) {
        const labels = attrs(p);
        lines.push(
          `${base}_count${labelText(labels)} ${p.count}`,
          `${base}_sum${labelText(labels)} ${p.sum}`,
        );
        let cumulative = 0;
        p.bucketCounts!.forEach((c, i) => {
          cumulative += Number(c);
          const le = i < p.explicitBounds!.length ? String(p.explicitBounds![i]) : '+Inf';
          lines.push(`${base}_bucket${labelText([...labels, ['le', le]])} ${cumulative}`);
        });
      }
    }
  }
  return [...lines, ''];
}
