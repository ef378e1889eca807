/**
 * The audit middleware: the outermost MCP-aware layer. It records one event per request, including
 * those refused by inner layers (a thrown `ProxyHttpError` is recorded and rethrown so proxy-core's
 * edge answers), and emits SSE-answered requests when their stream ends.
 */
import type {
  Exchange,
  Middleware,
  Next,
  ProxyResponse,
  UpstreamFinishMessage,
} from '@bastion-mcp/proxy-core';
import { channels, idOf, isRequest, observeAnswer } from '@bastion-mcp/proxy-core';
import { Auditor } from './auditor.js';
import type { AuditorStats } from './auditor.js';
import type { Ending, RequestSnapshot } from './build.js';
import { buildEvent } from './build.js';
import { eventTypeOf } from './classify.js';
import type { AuditEvent } from './event.js';
import type { AuditOptions } from './options.js';
import { resolveAuditOptions } from './options.js';

/** Largest JSON body / SSE event audit reads to find the JSON-RPC answer, bytes. */
const MAX_INSPECT_BYTES = 256 * 1024;

export interface AuditMiddleware extends Middleware {
  readonly name: 'audit';
  /** Counters: emitted, filtered, dropped (total and per sink). */
  stats(): AuditorStats;
  /** Total events dropped by full queues or failing sinks. */
  readonly droppedEvents: number;
  /** Wait until queued events were handed to the sinks (bounded by `timeoutMs`, default `closeTimeoutMs`). */
  flush(timeoutMs?: number): Promise<boolean>;
  /** Drain (bounded) and close the sinks. */
  close(): Promise<void>;
}

/**
 * Create the audit middleware.
 *
 * @example
 * ```ts
 * const audit = createAuditMiddleware({
 *   excludeTypes: ['mcp_ping'],
 *   trustedProxies: ['10.0.0.0/8'],
 *   sinks: [{ type: 'stdout' }, { type: 'file', path: '/var/log/bastion/audit.jsonl' }],
 * });
 * ```
 */
export function createAuditMiddleware(options: AuditOptions = {}): AuditMiddleware {
  const resolved = resolveAuditOptions(options);
  const auditor = new Auditor({
    sinks: resolved.sinks,
    queueSize: resolved.queueSize,
    closeTimeoutMs: resolved.closeTimeoutMs,
    onDrop: resolved.onDrop,
  });

  // Upstream status per exchange, reported by proxy-core's forwarder. The entry is removed once the
  // event is built: dead entries of a WeakMap keyed by young objects make V8's scavenges slower.
  const upstreamStatus = new WeakMap<Exchange, number>();
  const onUpstreamFinish = (message: unknown) => {
    const m = message as UpstreamFinishMessage;
    if (m?.exchange && typeof m.status === 'number') upstreamStatus.set(m.exchange, m.status);
  };
  if (resolved.enabled) channels.upstreamFinish.subscribe(onUpstreamFinish);

  const emit = (exchange: Exchange, snapshot: RequestSnapshot, ending: Ending) => {
    const status = upstreamStatus.get(exchange);
    upstreamStatus.delete(exchange);
    let event: AuditEvent;
    try {
      event = buildEvent(exchange, snapshot, ending, resolved, status);
    } catch (err) {
      // Never let auditing break a request; report through the request logger (no payloads).
      exchange.log.error(
        { err: (err as Error)?.message, requestId: exchange.requestId },
        'audit event could not be built',
      );
      return;
    }
    auditor.emit(event);
  };

  async function handle(exchange: Exchange, next: Next): Promise<ProxyResponse> {
    if (!resolved.enabled) return next();
    const type = eventTypeOf(exchange);
    if (!resolved.types.has(type)) {
      auditor.skip();
      return next();
    }
    const snapshot: RequestSnapshot = { type, time: new Date().toISOString(), rpc: exchange.rpc };
    let res: ProxyResponse;
    try {
      res = await next();
    } catch (error) {
      emit(exchange, snapshot, { kind: 'error', error });
      throw error;
    }
    const rpc = snapshot.rpc;
    return observeAnswer(
      res,
      {
        rpcId: isRequest(rpc) ? idOf(rpc) : undefined,
        expectsAnswer: isRequest(rpc),
        maxInspectBytes: MAX_INSPECT_BYTES,
        signal: exchange.signal,
        atOpen: type === 'sse_connection',
      },
      (facts) => emit(exchange, snapshot, { kind: 'response', facts }),
    );
  }

  let closed = false;
  return {
    name: 'audit',
    handle,
    stats: () => auditor.stats(),
    get droppedEvents() {
      return auditor.droppedEvents;
    },
    flush: (timeoutMs?: number) => auditor.flush(timeoutMs),
    async close() {
      if (closed) return;
      closed = true;
      if (resolved.enabled) channels.upstreamFinish.unsubscribe(onUpstreamFinish);
      await auditor.close();
    },
  };
}
