/**
 * The per-request metrics without the OpenTelemetry SDK's per-record cost.
 *
 * An SDK instrument hashes the attribute object of every sample (`hashAttributes`: keys sorted,
 * mapped, JSON-stringified), looks the hash up and reads the clock; with five to seven samples per
 * tools/call that was ~8–10 µs of CPU and several KB of garbage per request, and the attribute objects
 * themselves had to be built first. Here each series is found from its label values in a fixed order
 * (nested Maps, nothing allocated), created once with its frozen attribute object, and updated in
 * place. The series are exported through the SDK as a `MetricProducer` given to every reader, as the
 * same SUM / HISTOGRAM points (cumulative, same scope, names, descriptions, units and buckets) the
 * SDK's own instruments produced, so `/metrics` and OTLP do not change.
 *
 * Limits kept from the SDK: at most 2000 series per metric, the 2000th being
 * `{otel.metric.overflow="true"}` for every later attribute set (the SDK counts that limit per
 * collection interval; here it holds for the life of the process, which also bounds memory).
 *
 * When a reader wants anything else than cumulative temporality (OTLP with
 * `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta|lowmemory`), the same calls record through
 * SDK instruments instead (`sdkInstruments`): the series lookup still spares building the attribute
 * objects, the SDK does the aggregation.
 */
import {
  type Attributes,
  type Counter,
  type Histogram,
  type HrTime,
  type Meter,
  type UpDownCounter,
  ValueType,
} from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  type CollectionResult,
  DataPointType,
  InstrumentType,
  type MetricCollectOptions,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import { protocolVersionLabel } from '../classify.js';
import { OTHER_TOOL } from '../known-tools.js';
import { MCP_DURATION_BUCKETS_SECONDS } from '../names.js';
import { INSTRUMENTS, type InstrumentId, type InstrumentSpec, type Instruments } from './instruments.js';

/** The SDK's default cardinality limit per metric stream (the last one is the overflow series). */
export const CARDINALITY_LIMIT = 2000;
const OVERFLOW_ATTRIBUTES: Attributes = Object.freeze({ 'otel.metric.overflow': true });

/** One attribute set of one metric. */
interface Sink {
  update(value: number): void;
}

/** Where the series of one metric come from. */
interface Family {
  /** No new series may be cached: `sink()` now answers the overflow series (or an uncached SDK sink). */
  readonly full: boolean;
  sink(attributes: Attributes): Sink;
}

// ---- native series, exported by the producer ----

class SumPoint implements Sink {
  value = 0;
  constructor(
    readonly attributes: Attributes,
    readonly startTime: HrTime,
  ) {}
  update(value: number): void {
    this.value += value;
  }
}

const BOUNDARIES: readonly number[] = MCP_DURATION_BUCKETS_SECONDS;

class HistogramPoint implements Sink {
  /** counts[i]: values in (BOUNDARIES[i-1], BOUNDARIES[i]]; the last one above every boundary. */
  readonly counts: number[] = new Array<number>(BOUNDARIES.length + 1).fill(0);
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  constructor(
    readonly attributes: Attributes,
    readonly startTime: HrTime,
  ) {}
  update(value: number): void {
    // NaN falls in no bucket and is not counted (as the SDK's HistogramAccumulation).
    if (Number.isNaN(value)) return;
    this.count += 1;
    this.sum += value;
    this.min = Math.min(value, this.min);
    this.max = Math.max(value, this.max);
    // first boundary ≥ value (Prometheus `le`), as the SDK's binarySearchUB
    let lo = 0;
    let hi = BOUNDARIES.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (BOUNDARIES[mid]! < value) lo = mid + 1;
      else hi = mid;
    }
    this.counts[lo]! += 1;
  }
}

class NativeFamily implements Family {
  readonly points: (SumPoint | HistogramPoint)[] = [];
  #regular = 0;
  #overflow: SumPoint | HistogramPoint | undefined;
  readonly #descriptor: MetricData['descriptor'] & { readonly type: InstrumentType };

  constructor(readonly spec: InstrumentSpec) {
    this.#descriptor = {
      name: spec.name,
      description: spec.description,
      unit: spec.unit,
      valueType: ValueType.DOUBLE,
      type:
        spec.kind === 'histogram'
          ? InstrumentType.HISTOGRAM
          : spec.kind === 'updown'
            ? InstrumentType.UP_DOWN_COUNTER
            : InstrumentType.COUNTER,
    };
  }

  get full(): boolean {
    return this.#regular >= CARDINALITY_LIMIT - 1;
  }

  sink(attributes: Attributes): Sink {
    if (this.full) {
      this.#overflow ??= this.#add(OVERFLOW_ATTRIBUTES);
      return this.#overflow;
    }
    this.#regular += 1;
    return this.#add(attributes);
  }

  #add(attributes: Attributes): SumPoint | HistogramPoint {
    const startTime = millisToHrTime(Date.now());
    const point =
      this.spec.kind === 'histogram'
        ? new HistogramPoint(attributes, startTime)
        : new SumPoint(attributes, startTime);
    this.points.push(point);
    return point;
  }

  /** The cumulative points as of `endTime` (copies: the series keep changing after this returns). */
  collect(endTime: HrTime): MetricData | undefined {
    if (this.points.length === 0) return undefined;
    if (this.spec.kind !== 'histogram') {
      return {
        descriptor: this.#descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.SUM,
        isMonotonic: this.spec.kind === 'counter',
        dataPoints: (this.points as SumPoint[]).map((p) => ({
          attributes: p.attributes,
          startTime: p.startTime,
          endTime,
          value: p.value,
        })),
      };
    }
    const boundaries = [...BOUNDARIES];
    return {
      descriptor: this.#descriptor,
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: (this.points as HistogramPoint[]).map((p) => ({
        attributes: p.attributes,
        startTime: p.startTime,
        endTime,
        value: {
          min: p.count > 0 ? p.min : undefined,
          max: p.count > 0 ? p.max : undefined,
          sum: p.sum,
          buckets: { boundaries, counts: [...p.counts] },
          count: p.count,
        },
      })),
    };
  }
}

// ---- SDK-backed series (any reader not cumulative) ----

class SdkSumSink implements Sink {
  constructor(
    readonly instrument: Counter | UpDownCounter,
    readonly attributes: Attributes,
  ) {}
  update(value: number): void {
    this.instrument.add(value, this.attributes);
  }
}

class SdkHistogramSink implements Sink {
  constructor(
    readonly instrument: Histogram,
    readonly attributes: Attributes,
  ) {}
  update(value: number): void {
    this.instrument.record(value, this.attributes);
  }
}

class SdkFamily implements Family {
  #cached = 0;
  constructor(readonly instrument: Counter | UpDownCounter | Histogram) {}
  /** Past the SDK's limit nothing more is cached; the SDK applies its own overflow to what comes. */
  get full(): boolean {
    return this.#cached >= CARDINALITY_LIMIT - 1;
  }
  sink(attributes: Attributes): Sink {
    if (!this.full) this.#cached += 1;
    return 'record' in this.instrument
      ? new SdkHistogramSink(this.instrument, attributes)
      : new SdkSumSink(this.instrument, attributes);
  }
}

// ---- the lookup ----

// biome-ignore lint/suspicious/noExplicitAny: a tree of Maps whose depth is fixed by the caller
type Node = Map<unknown, any>;

/** Series by up to five label values, in a fixed order (`undefined` for an absent label). */
class Index<V> {
  readonly #root: Node = new Map();

  get(a: unknown, b: unknown, c: unknown, d: unknown, e: unknown): V | undefined {
    const n1: Node | undefined = this.#root.get(a);
    if (n1 === undefined) return undefined;
    const n2: Node | undefined = n1.get(b);
    if (n2 === undefined) return undefined;
    const n3: Node | undefined = n2.get(c);
    if (n3 === undefined) return undefined;
    const n4: Node | undefined = n3.get(d);
    return n4 === undefined ? undefined : (n4.get(e) as V | undefined);
  }

  set(a: unknown, b: unknown, c: unknown, d: unknown, e: unknown, value: V): void {
    let node = this.#root;
    for (const key of [a, b, c, d]) {
      let next: Node | undefined = node.get(key);
      if (next === undefined) {
        next = new Map();
        node.set(key, next);
      }
      node = next;
    }
    node.set(e, value);
  }
}

interface RequestSeries {
  readonly count: Sink;
  readonly duration: Sink;
  readonly toolCalls: Sink | undefined;
}

class RequestMetrics implements Instruments {
  readonly #f: Readonly<Record<InstrumentId, Family>>;
  readonly #requests = new Index<RequestSeries>();
  readonly #toolCalls = new Index<Sink>();
  readonly #operations = new Index<Sink>();
  readonly #upstream = new Index<Sink>();
  readonly #idp = new Index<Sink>();
  readonly #cache = new Index<Sink>();
  readonly #audit = new Index<Sink>();
  readonly #sse = new Index<Sink>();
  /** The last raw protocol version and its label: nearly every request carries the same one. */
  #protocolRaw: string | undefined;
  #protocolLabel: string | undefined;

  constructor(families: Readonly<Record<InstrumentId, Family>>) {
    this.#f = families;
  }

  request(
    server: string,
    method: string,
    tool: string | undefined,
    outcome: string,
    status: number,
    seconds: number,
  ): void {
    const series =
      this.#requests.get(server, method, outcome, status, tool) ??
      this.#newRequest(server, method, tool, outcome, status);
    series.count.update(1);
    series.duration.update(seconds);
    series.toolCalls?.update(1);
  }

  #newRequest(
    server: string,
    method: string,
    tool: string | undefined,
    outcome: string,
    status: number,
  ): RequestSeries {
    const attributes: Attributes = { server, mcp_method: method, outcome, status_code: String(status) };
    if (tool !== undefined) attributes.tool = tool;
    Object.freeze(attributes);
    const cache = !this.#f.requests.full;
    const series: RequestSeries = {
      count: this.#f.requests.sink(attributes),
      duration: this.#f.requestDuration.sink(attributes),
      toolCalls: method === 'tools/call' ? this.#toolCall(server, tool ?? OTHER_TOOL, outcome) : undefined,
    };
    if (cache) this.#requests.set(server, method, outcome, status, tool, series);
    return series;
  }

  #toolCall(server: string, tool: string, outcome: string): Sink {
    const found = this.#toolCalls.get(server, tool, outcome, undefined, undefined);
    if (found !== undefined) return found;
    return this.#cached(this.#toolCalls, 'toolCalls', [server, tool, outcome], { server, tool, outcome });
  }

  operation(
    method: string,
    tool: string | undefined,
    errorType: string | undefined,
    rpcErrorCode: number | undefined,
    protocol: string | undefined,
    seconds: number,
  ): void {
    if (protocol !== this.#protocolRaw) {
      this.#protocolRaw = protocol;
      this.#protocolLabel = protocolVersionLabel(protocol);
    }
    const version = this.#protocolLabel;
    let sink = this.#operations.get(method, tool, errorType, rpcErrorCode, version);
    if (sink === undefined) {
      const attributes: Attributes = {
        'mcp.method.name': method,
        'network.transport': 'tcp',
        'network.protocol.name': 'http',
      };
      if (tool !== undefined) {
        attributes['gen_ai.tool.name'] = tool;
        attributes['gen_ai.operation.name'] = 'execute_tool';
      }
      if (errorType !== undefined) attributes['error.type'] = errorType;
      if (rpcErrorCode !== undefined) attributes['rpc.response.status_code'] = String(rpcErrorCode);
      if (version !== undefined) attributes['mcp.protocol.version'] = version;
      sink = this.#cached(
        this.#operations,
        'operationDuration',
        [method, tool, errorType, rpcErrorCode, version],
        attributes,
      );
    }
    sink.update(seconds);
  }

  upstream(server: string, status: number | undefined, errorType: string | undefined, seconds: number): void {
    if (seconds < 0) return; // a histogram takes no negative value (the SDK drops it too)
    let sink = this.#upstream.get(server, status, errorType, undefined, undefined);
    if (sink === undefined) {
      const attributes: Attributes = {
        server,
        status_code: status === undefined ? 'none' : String(status),
      };
      if (errorType !== undefined) attributes.error_type = errorType;
      sink = this.#cached(this.#upstream, 'upstreamDuration', [server, status, errorType], attributes);
    }
    sink.update(seconds);
  }

  idp(kind: string, ok: boolean, seconds: number): void {
    if (seconds < 0) return;
    const outcome = ok ? 'success' : 'error';
    const sink =
      this.#idp.get(kind, outcome, undefined, undefined, undefined) ??
      this.#cached(this.#idp, 'idpDuration', [kind, outcome], { kind, outcome });
    sink.update(seconds);
  }

  cacheLookup(cache: string, result: string): void {
    const sink =
      this.#cache.get(cache, result, undefined, undefined, undefined) ??
      this.#cached(this.#cache, 'cacheLookups', [cache, result], { cache, result });
    sink.update(1);
  }

  auditDropped(sink: string, reason: string): void {
    const series =
      this.#audit.get(sink, reason, undefined, undefined, undefined) ??
      this.#cached(this.#audit, 'auditDropped', [sink, reason], { sink, reason });
    series.update(1);
  }

  sseStream(server: string, delta: number): void {
    const sink =
      this.#sse.get(server, undefined, undefined, undefined, undefined) ??
      this.#cached(this.#sse, 'activeSseStreams', [server], { server });
    sink.update(delta);
  }

  /** A new series of `family` for `attributes`, remembered under `keys` unless the family is full. */
  #cached(index: Index<Sink>, family: InstrumentId, keys: readonly unknown[], attributes: Attributes): Sink {
    const f = this.#f[family];
    const cache = !f.full;
    const sink = f.sink(Object.freeze(attributes));
    if (cache) index.set(keys[0], keys[1], keys[2], keys[3], keys[4], sink);
    return sink;
  }
}

/** What `collect` may add after the native metrics, in the same scope (the observable process metrics). */
export interface ExtraMetrics {
  collect(options?: MetricCollectOptions): Promise<CollectionResult>;
}

export interface NativeMetrics {
  readonly instruments: Instruments;
  /** A producer for one reader; `extra` is collected after the native series, into the same scope. */
  producer(extra?: ExtraMetrics): MetricProducer;
}

/**
 * Series aggregated here, exported by producers. `scope` and `resource` are the meter's: the readers
 * keep the MeterProvider's resource, the scope is what the SDK meter had.
 */
export function nativeMetrics(scope: { name: string; version: string }, resource: Resource): NativeMetrics {
  const families = Object.fromEntries(
    Object.entries(INSTRUMENTS).map(([id, spec]) => [id, new NativeFamily(spec)]),
  ) as Record<InstrumentId, NativeFamily>;
  const ordered = Object.values(families);
  const instrumentationScope = { name: scope.name, version: scope.version };
  return {
    instruments: new RequestMetrics(families),
    producer(extra) {
      return {
        async collect(options) {
          const endTime = millisToHrTime(Date.now());
          const metrics: MetricData[] = [];
          for (const family of ordered) {
            const data = family.collect(endTime);
            if (data !== undefined) metrics.push(data);
          }
          const errors: unknown[] = [];
          if (extra !== undefined) {
            const more = await extra.collect(options);
            errors.push(...more.errors);
            for (const scoped of more.resourceMetrics.scopeMetrics) metrics.push(...scoped.metrics);
          }
          return {
            resourceMetrics: {
              resource,
              scopeMetrics: metrics.length === 0 ? [] : [{ scope: instrumentationScope, metrics }],
            },
            errors,
          };
        },
      };
    },
  };
}

/** The same calls recorded through SDK instruments of `meter` (created in the historical order). */
export function sdkInstruments(meter: Meter): Instruments {
  const families = Object.fromEntries(
    Object.entries(INSTRUMENTS).map(([id, spec]: [string, InstrumentSpec]) => {
      const options = { description: spec.description, unit: spec.unit };
      const instrument =
        spec.kind === 'histogram'
          ? meter.createHistogram(spec.name, {
              ...options,
              advice: { explicitBucketBoundaries: [...MCP_DURATION_BUCKETS_SECONDS] },
            })
          : spec.kind === 'updown'
            ? meter.createUpDownCounter(spec.name, options)
            : meter.createCounter(spec.name, options);
      return [id, new SdkFamily(instrument)];
    }),
  ) as Record<InstrumentId, SdkFamily>;
  return new RequestMetrics(families);
}
