/**
 * W3C trace context + baggage, used with explicit contexts only (nothing is registered globally, so
 * two telemetry instances in one process never interfere).
 */
import type { IncomingHttpHeaders } from 'node:http';
import {
  type Context,
  ROOT_CONTEXT,
  type TextMapGetter,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';

const propagator = new CompositePropagator({
  propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
});

const headerGetter: TextMapGetter<IncomingHttpHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

const metaGetter: TextMapGetter<Record<string, unknown>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const v = carrier[key];
    return typeof v === 'string' ? v : undefined;
  },
};

const recordSetter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

/**
 * The remote parent of a request: `params._meta` trace context (SEP-414, preferred by the MCP semconv)
 * when it carries a valid `traceparent`, else the HTTP headers.
 */
export function extractParent(
  headers: IncomingHttpHeaders,
  meta: Record<string, unknown> | undefined,
): Context {
  if (meta !== undefined && typeof meta.traceparent === 'string') {
    const fromMeta = propagator.extract(ROOT_CONTEXT, meta, metaGetter);
    if (trace.getSpanContext(fromMeta) !== undefined) return fromMeta;
  }
  if (headers.traceparent === undefined && headers.baggage === undefined) return ROOT_CONTEXT;
  return propagator.extract(ROOT_CONTEXT, headers, headerGetter);
}

/** Write `traceparent` / `tracestate` / `baggage` of `ctx` into `carrier`, replacing what the client sent. */
export function injectInto(ctx: Context, carrier: Record<string, string>): void {
  delete carrier.traceparent;
  delete carrier.tracestate;
  delete carrier.baggage;
  propagator.inject(ctx, carrier, recordSetter);
}
