/**
 * Options of `createTelemetry`, validated once at construction (TypeError naming the option).
 */
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';

/** OTLP/HTTP export settings (traces and metrics). */
export interface OtlpOptions {
  /**
   * Base URL of the collector's OTLP/HTTP receiver, e.g. `http://otel-collector:4318`. Traces go to
   * `<endpoint>/v1/traces`, metrics to `<endpoint>/v1/metrics`.
   */
  endpoint: string;
  /** Extra HTTP headers sent with every export (e.g. an API key). Default none. */
  headers?: Record<string, string> | undefined;
  /** Send traces over OTLP. Default `true`. */
  traces?: boolean | undefined;
  /** Send metrics over OTLP. Default `true`. */
  metrics?: boolean | undefined;
  /** Metrics export interval in ms. Default 60000 (60 s). */
  metricsIntervalMs?: number | undefined;
  /** Timeout of one export request in ms. Default 10000 (10 s). */
  timeoutMs?: number | undefined;
}

export interface TelemetryOptions {
  /** Master switch. `false` → no OpenTelemetry SDK is loaded and the middlewares just call `next`. Default `true`. */
  enabled?: boolean | undefined;
  /** `service.name` resource attribute. Default `bastion`. */
  serviceName?: string | undefined;
  /** `service.version` resource attribute. Default none. */
  serviceVersion?: string | undefined;
  /** Extra resource attributes (e.g. `deployment.environment.name`). Default none. */
  resourceAttributes?: Record<string, string> | undefined;
  /** Record traces. Default `true`. */
  traces?: boolean | undefined;
  /** Record metrics. Default `true`. */
  metrics?: boolean | undefined;
  /**
   * Fraction of new traces sampled, 0..1, as `ParentBased(TraceIdRatioBased(ratio))`: a sampled
   * client parent is always followed. Metrics are never sampled. Default 1.
   */
  sampleRatio?: number | undefined;
  /** Serve Prometheus text (on `startMetricsServer()` and `metricsHandler`). Default `true` when metrics are on. */
  prometheus?: boolean | undefined;
  /** Also serve `GET <metricsPath>` as a route on the proxy's main port (`middleware.routes`). Default `false`. */
  metricsOnMainPort?: boolean | undefined;
  /** Path of the Prometheus endpoint. Default `/metrics`. */
  metricsPath?: string | undefined;
  /** OTLP/HTTP export; disabled when absent. */
  otlp?: OtlpOptions | undefined;
  /**
   * Extra span exporters (e.g. an `InMemorySpanExporter` in tests, or a console exporter), each behind a
   * `SimpleSpanProcessor`. Default none.
   */
  spanExporters?: readonly SpanExporter[] | undefined;
  /** Record `gen_ai.tool.call.arguments` (always redacted). Default `false`. */
  recordArguments?: boolean | undefined;
  /** Record `user.id` (the identity's subject) on spans. Default `false`. */
  recordUserId?: boolean | undefined;
  /** Key pattern whose argument values are redacted. Default: password/token/secret/key/auth/cookie/credential/private. */
  redactKeys?: RegExp | undefined;
  /**
   * Inspect every JSON-RPC answer so JSON-RPC errors and tool errors inside HTTP 200 are counted
   * (`rpc_error`, `tool_error`). `false` → only `tools/list` answers are read (for the tool-name guard).
   * Default `true`.
   */
  inspectResponses?: boolean | undefined;
  /** Largest number of distinct tool names used as a metric label (cardinality guard). Default 1000. */
  maxToolNames?: number | undefined;
  /** Collect process metrics (memory, CPU, event-loop delay). Default `true`. */
  processMetrics?: boolean | undefined;
  /** Metric label `server` when the exchange has none. Default: `exchange.serverName`. */
  serverName?: string | undefined;
}

export interface ResolvedOptions {
  readonly enabled: boolean;
  readonly serviceName: string;
  readonly serviceVersion: string | undefined;
  readonly resourceAttributes: Readonly<Record<string, string>>;
  readonly traces: boolean;
  readonly metrics: boolean;
  readonly sampleRatio: number;
  readonly prometheus: boolean;
  readonly metricsOnMainPort: boolean;
  readonly metricsPath: string;
  readonly otlp:
    | {
        readonly tracesUrl: string | undefined;
        readonly metricsUrl: string | undefined;
        readonly headers: Readonly<Record<string, string>>;
        readonly metricsIntervalMs: number;
        readonly timeoutMs: number;
      }
    | undefined;
  readonly spanExporters: readonly SpanExporter[];
  readonly recordArguments: boolean;
  readonly recordUserId: boolean;
  readonly redactKeys: RegExp | undefined;
  readonly inspectResponses: boolean;
  readonly maxToolNames: number;
  readonly processMetrics: boolean;
  readonly serverName: string | undefined;
}

function bool(v: unknown, name: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new TypeError(`"${name}" must be a boolean`);
  return v;
}

function optString(v: unknown, name: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw new TypeError(`"${name}" must be a non-empty string`);
  return v;
}

function stringRecord(v: unknown, name: string): Record<string, string> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new TypeError(`"${name}" must be an object of strings`);
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') throw new TypeError(`"${name}.${k}" must be a string`);
  }
  return { ...(v as Record<string, string>) };
}

function positiveInt(v: unknown, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
    throw new TypeError(`"${name}" must be a positive integer`);
  return v;
}

function httpUrl(v: string, name: string): URL {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new TypeError(`"${name}" must be an absolute http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`"${name}" must be an absolute http(s) URL`);
  }
  return url;
}

/** Validate and default the options. Throws `TypeError` naming the first bad option. */
export function resolveOptions(options: TelemetryOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
  const enabled = bool(options.enabled, 'enabled', true);
  const metrics = bool(options.metrics, 'metrics', true);
  const sampleRatio = options.sampleRatio ?? 1;
  if (typeof sampleRatio !== 'number' || !(sampleRatio >= 0 && sampleRatio <= 1)) {
    throw new TypeError('"sampleRatio" must be a number between 0 and 1');
  }
  const metricsPath = options.metricsPath ?? '/metrics';
  if (typeof metricsPath !== 'string' || !metricsPath.startsWith('/') || metricsPath.includes('*')) {
    throw new TypeError('"metricsPath" must be an absolute path starting with "/"');
  }
  if (options.redactKeys !== undefined && !(options.redactKeys instanceof RegExp)) {
    throw new TypeError('"redactKeys" must be a RegExp');
  }
  const spanExporters = options.spanExporters ?? [];
  if (!Array.isArray(spanExporters) || spanExporters.some((e) => typeof e?.export !== 'function')) {
    throw new TypeError('"spanExporters" must be an array of SpanExporter objects');
  }
  const maxToolNames = options.maxToolNames ?? 1000;
  if (typeof maxToolNames !== 'number' || !Number.isInteger(maxToolNames) || maxToolNames < 0) {
    throw new TypeError('"maxToolNames" must be a non-negative integer');
  }
  let otlp: ResolvedOptions['otlp'];
  if (options.otlp !== undefined) {
    const o = options.otlp;
    if (typeof o !== 'object' || o === null) throw new TypeError('"otlp" must be an object');
    const endpoint = optString(o.endpoint, 'otlp.endpoint');
    if (endpoint === undefined) throw new TypeError('"otlp.endpoint" must be a non-empty string');
    const base = httpUrl(endpoint, 'otlp.endpoint').href.replace(/\/+$/, '');
    otlp = {
      tracesUrl: bool(o.traces, 'otlp.traces', true) ? `${base}/v1/traces` : undefined,
      metricsUrl: bool(o.metrics, 'otlp.metrics', true) ? `${base}/v1/metrics` : undefined,
      headers: stringRecord(o.headers, 'otlp.headers'),
      metricsIntervalMs: positiveInt(o.metricsIntervalMs, 'otlp.metricsIntervalMs', 60_000),
      timeoutMs: positiveInt(o.timeoutMs, 'otlp.timeoutMs', 10_000),
    };
  }
  return Object.freeze({
    enabled,
    serviceName: optString(options.serviceName, 'serviceName') ?? 'bastion',
    serviceVersion: optString(options.serviceVersion, 'serviceVersion'),
    resourceAttributes: Object.freeze(stringRecord(options.resourceAttributes, 'resourceAttributes')),
    traces: bool(options.traces, 'traces', true),
    metrics,
    sampleRatio,
    prometheus: metrics && bool(options.prometheus, 'prometheus', true),
    metricsOnMainPort: bool(options.metricsOnMainPort, 'metricsOnMainPort', false),
    metricsPath,
    otlp,
    spanExporters: [...spanExporters],
    recordArguments: bool(options.recordArguments, 'recordArguments', false),
    recordUserId: bool(options.recordUserId, 'recordUserId', false),
    redactKeys: options.redactKeys,
    inspectResponses: bool(options.inspectResponses, 'inspectResponses', true),
    maxToolNames,
    processMetrics: bool(options.processMetrics, 'processMetrics', true),
    serverName: optString(options.serverName, 'serverName'),
  });
}
