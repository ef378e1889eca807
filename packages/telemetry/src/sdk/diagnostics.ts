/**
 * Subscriptions to proxy-core's diagnostics channels: CLIENT spans for the upstream call and the
 * identity-provider calls (parented to the request's SERVER span), and the metrics that only those
 * channels can see (upstream latency, IdP latency, cache hits/misses, audit drops, live SSE streams).
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import {
  type Attributes,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type {
  AuditDroppedMessage,
  CacheLookupMessage,
  Exchange,
  IdpFinishMessage,
  IdpStartMessage,
  SseStreamMessage,
  UpstreamFinishMessage,
  UpstreamStartMessage,
} from '@bastion-mcp/proxy-core';
import type { Instruments } from './instruments.js';
import { injectInto } from './propagation.js';
import type { RequestTracker } from './requests.js';

const CHANNEL = {
  upstreamStart: 'bastion:upstream:start',
  upstreamFinish: 'bastion:upstream:finish',
  idpStart: 'bastion:idp:start',
  idpFinish: 'bastion:idp:finish',
  cacheLookup: 'bastion:cache:lookup',
  auditDropped: 'bastion:audit:dropped',
  sseStream: 'bastion:sse:stream',
} as const;

function urlAttributes(raw: string): Attributes {
  try {
    const u = new URL(raw);
    u.username = '';
    u.password = '';
    u.search = '';
    const port = u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port);
    return { 'url.full': u.href, 'server.address': u.hostname, 'server.port': port };
  } catch {
    return {};
  }
}

function endClientSpan(span: Span, status: number | undefined, errorCode: string | undefined): void {
  if (span.isRecording()) {
    if (status !== undefined) span.setAttribute('http.response.status_code', status);
    const errorType = errorCode ?? (status !== undefined && status >= 400 ? String(status) : undefined);
    if (errorType !== undefined) {
      span.setAttribute('error.type', errorType);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
  }
  span.end();
}

export interface Subscriptions {
  unsubscribe(): void;
}

export function subscribeDiagnostics(
  tracker: RequestTracker,
  tracer: Tracer | undefined,
  instruments: Instruments | undefined,
): Subscriptions {
  const upstreamSpans = new WeakMap<Exchange, Span>();
  const idpSpans = new Map<number, Span>();
  const handlers: Record<string, (message: unknown) => void> = {};

  handlers[CHANNEL.upstreamStart] = (m) => {
    const msg = m as UpstreamStartMessage;
    const state = tracker.get(msg.exchange);
    if (state === undefined || tracer === undefined || state.span === undefined) return;
    const span = tracer.startSpan(
      msg.method,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': msg.method,
          ...urlAttributes(msg.url),
          ...(msg.exchange.notes.side === true ? { 'bastion.side_request': true } : {}),
        },
      },
      state.ctx,
    );
    upstreamSpans.set(msg.exchange, span);
    // The forwarder builds its headers after publishing `start`: the upstream sees this CLIENT span as parent.
    injectInto(trace.setSpan(state.ctx, span), msg.exchange.upstreamHeaders);
  };

  handlers[CHANNEL.upstreamFinish] = (m) => {
    const msg = m as UpstreamFinishMessage;
    const span = upstreamSpans.get(msg.exchange);
    if (span !== undefined) {
      upstreamSpans.delete(msg.exchange);
      endClientSpan(span, msg.status, msg.errorCode);
    }
    if (instruments === undefined || tracker.get(msg.exchange) === undefined) return;
    instruments.upstream(tracker.serverOf(msg.exchange), msg.status, msg.errorCode, msg.durationMs / 1000);
  };

  handlers[CHANNEL.idpStart] = (m) => {
    const msg = m as IdpStartMessage;
    if (tracer === undefined) return;
    const parent = msg.exchange === undefined ? undefined : tracker.get(msg.exchange);
    const span = tracer.startSpan(
      `idp ${msg.kind}`,
      { kind: SpanKind.CLIENT, attributes: { 'bastion.idp.kind': msg.kind, ...urlAttributes(msg.url) } },
      parent?.ctx ?? ROOT_CONTEXT,
    );
    idpSpans.set(msg.id, span);
  };

  handlers[CHANNEL.idpFinish] = (m) => {
    const msg = m as IdpFinishMessage;
    const span = idpSpans.get(msg.id);
    if (span !== undefined) {
      idpSpans.delete(msg.id);
      endClientSpan(span, msg.status, msg.ok ? undefined : (msg.errorCode ?? 'error'));
    }
    instruments?.idp(msg.kind, msg.ok, msg.durationMs / 1000);
  };

  handlers[CHANNEL.cacheLookup] = (m) => {
    const msg = m as CacheLookupMessage;
    instruments?.cacheLookup(msg.cache, msg.result);
  };

  handlers[CHANNEL.auditDropped] = (m) => {
    const msg = m as AuditDroppedMessage;
    instruments?.auditDropped(msg.sink, msg.reason);
  };

  handlers[CHANNEL.sseStream] = (m) => {
    const msg = m as SseStreamMessage;
    if (instruments === undefined || tracker.get(msg.exchange) === undefined) return;
    instruments.sseStream(tracker.serverOf(msg.exchange), msg.state === 'open' ? 1 : -1);
  };

  for (const [name, fn] of Object.entries(handlers)) diagnosticsChannel.subscribe(name, fn);
  return {
    unsubscribe() {
      for (const [name, fn] of Object.entries(handlers)) diagnosticsChannel.unsubscribe(name, fn);
      for (const span of idpSpans.values()) span.end();
      idpSpans.clear();
    },
  };
}
