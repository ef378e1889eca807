/**
 * `@bastion-mcp/telemetry/sdk`: the OpenTelemetry SDK half of the package, loaded by `createTelemetry`
 * only when telemetry is enabled. Providers are per instance and never registered globally.
 */
import type { Meter, Tracer } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  InstrumentType,
  MeterProvider,
  type MetricProducer,
  MetricReader,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import type { Route } from '@bastion-mcp/proxy-core';
import { TelemetryError, TelemetryErrorCode } from '../errors.js';
import { KnownTools } from '../known-tools.js';
import { INSTRUMENTATION_SCOPE } from '../names.js';
import type { ResolvedOptions } from '../options.js';
import type { MetricsServerOptions, Telemetry } from '../types.js';
import { subscribeDiagnostics } from './diagnostics.js';
import type { Instruments } from './instruments.js';
import { createMetricsHandler, type MetricsHandler, startMetricsListener } from './metrics-server.js';
import { createEdgeMiddleware, createInnerMiddleware } from './middlewares.js';
import { type ProcessMetrics, startProcessMetrics } from './process-metrics.js';
import { nativeMetrics, sdkInstruments } from './request-metrics.js';
import { RequestTracker } from './requests.js';

const VERSION = '0.1.0';

/** A reader nothing exports from: the native producers pull the process metrics through it. */
class PullReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

export async function createSdkTelemetry(options: ResolvedOptions): Promise<Telemetry> {
  const resource = resourceFromAttributes({
    'service.name': options.serviceName,
    ...(options.serviceVersion === undefined ? {} : { 'service.version': options.serviceVersion }),
    ...options.resourceAttributes,
  });

  let tracerProvider: BasicTracerProvider | undefined;
  let tracer: Tracer | undefined;
  if (options.traces) {
    const processors: SpanProcessor[] = options.spanExporters.map((e) => new SimpleSpanProcessor(e));
    if (options.otlp?.tracesUrl !== undefined) {
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
      processors.push(
        new BatchSpanProcessor(
          new OTLPTraceExporter({
            url: options.otlp.tracesUrl,
            headers: { ...options.otlp.headers },
            timeoutMillis: options.otlp.timeoutMs,
          }),
        ),
      );
    }
    // Spans nobody exports are pure cost (a span, its attributes and ids on every request): without a
    // processor no tracer is made, so no span is started and the client's trace headers pass upstream
    // unchanged (the forwarder's allow-list keeps them).
    if (processors.length > 0) {
      tracerProvider = new BasicTracerProvider({
        resource,
        sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio) }),
        spanProcessors: processors,
      });
      tracer = tracerProvider.getTracer(INSTRUMENTATION_SCOPE, VERSION);
    }
  }

  let meterProvider: MeterProvider | undefined;
  /** Only when the process metrics are collected through the native producers (see below). */
  let processProvider: MeterProvider | undefined;
  let prometheus: PrometheusExporter | undefined;
  let instruments: Instruments | undefined;
  let processMetrics: ProcessMetrics | undefined;
  if (options.metrics) {
    let otlpMetrics: PushMetricExporter | undefined;
    if (options.otlp?.metricsUrl !== undefined) {
      const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-http');
      otlpMetrics = new OTLPMetricExporter({
        url: options.otlp.metricsUrl,
        headers: { ...options.otlp.headers },
        timeoutMillis: options.otlp.timeoutMs,
      });
    }
    // The request-path instruments are our own series (request-metrics.ts), exported by a producer in
    // every reader, unless a reader wants delta temporality: then they stay SDK instruments.
    const native =
      otlpMetrics?.selectAggregationTemporality === undefined ||
      [InstrumentType.COUNTER, InstrumentType.HISTOGRAM, InstrumentType.UP_DOWN_COUNTER].every(
        (t) => otlpMetrics.selectAggregationTemporality?.(t) === AggregationTemporality.CUMULATIVE,
      );
    const readerCount = (options.prometheus ? 1 : 0) + (otlpMetrics === undefined ? 0 : 1);
    const producers: (MetricProducer[] | undefined)[] = [];
    if (native) {
      const metrics = nativeMetrics({ name: INSTRUMENTATION_SCOPE, version: VERSION }, resource);
      instruments = metrics.instruments;
      // The observable process metrics stay SDK instruments, on a MeterProvider of their own that each
      // producer collects after the native series: one scope, the metrics in their historical order.
      const pulls: PullReader[] = [];
      if (options.processMetrics) {
        for (let i = 0; i < readerCount; i++) pulls.push(new PullReader());
        processProvider = new MeterProvider({ resource, readers: pulls });
        processMetrics = startProcessMetrics(processProvider.getMeter(INSTRUMENTATION_SCOPE, VERSION));
      }
      for (let i = 0; i < readerCount; i++) producers.push([metrics.producer(pulls[i])]);
    }
    const readers: MetricReader[] = [];
    if (options.prometheus) {
      prometheus = new PrometheusExporter({
        preventServerStart: true,
        withoutScopeInfo: true,
        metricProducers: producers[readers.length],
      });
      readers.push(prometheus);
    }
    if (otlpMetrics !== undefined && options.otlp !== undefined) {
      readers.push(
        new PeriodicExportingMetricReader({
          exporter: otlpMetrics,
          exportIntervalMillis: options.otlp.metricsIntervalMs,
          exportTimeoutMillis: Math.min(options.otlp.timeoutMs, options.otlp.metricsIntervalMs),
          metricProducers: producers[readers.length],
        }),
      );
    }
    meterProvider = new MeterProvider({ resource, readers });
    if (!native) {
      const meter: Meter = meterProvider.getMeter(INSTRUMENTATION_SCOPE, VERSION);
      instruments = sdkInstruments(meter);
      if (options.processMetrics) processMetrics = startProcessMetrics(meter);
    }
  }

  const tracker = new RequestTracker({
    tracer,
    instruments,
    knownTools: new KnownTools(options.maxToolNames),
    options,
  });
  const subscriptions = subscribeDiagnostics(tracker, tracer, instruments);

  const exporter = prometheus;
  const metricsHandler: MetricsHandler | undefined =
    exporter === undefined
      ? undefined
      : createMetricsHandler(options.metricsPath, (req, res) => exporter.getMetricsRequestHandler(req, res));
  const routes: Route[] | undefined =
    metricsHandler !== undefined && options.metricsOnMainPort
      ? [{ method: 'GET', path: options.metricsPath, handle: metricsHandler }]
      : undefined;

  const listeners = new Set<{ close(): Promise<void> }>();
  const forceFlush = async (): Promise<void> => {
    await Promise.all([tracerProvider?.forceFlush(), meterProvider?.forceFlush()]);
  };
  let shutdownPromise: Promise<void> | undefined;

  return {
    enabled: true,
    edge: createEdgeMiddleware(tracker),
    middleware: createInnerMiddleware(tracker, {
      inspectResponses: options.inspectResponses,
      traces: tracer !== undefined,
      routes,
      flush: forceFlush,
    }),
    metricsHandler,
    async startMetricsServer(serverOptions?: MetricsServerOptions) {
      if (metricsHandler === undefined || shutdownPromise !== undefined) {
        throw new TelemetryError(
          TelemetryErrorCode.MetricsDisabled,
          shutdownPromise === undefined ? 'Prometheus metrics are disabled' : 'telemetry was shut down',
        );
      }
      const listener = await startMetricsListener(metricsHandler, options.metricsPath, serverOptions);
      listeners.add(listener);
      return {
        ...listener,
        close: async () => {
          listeners.delete(listener);
          await listener.close();
        },
      };
    },
    forceFlush,
    shutdown() {
      shutdownPromise ??= (async () => {
        subscriptions.unsubscribe();
        processMetrics?.stop();
        try {
          await Promise.allSettled([...listeners].map((l) => l.close()));
          listeners.clear();
        } finally {
          // the readers' last export still collects the process provider: shut it down after them
          await Promise.allSettled([
            tracerProvider?.shutdown(),
            meterProvider?.shutdown().finally(() => processProvider?.shutdown()),
          ]);
        }
      })();
      return shutdownPromise;
    },
  };
}
