/**
 * The auditor: fans events out to sinks through one bounded queue per sink, counts what was dropped
 * and publishes every drop on proxy-core's `channels.auditDropped` (telemetry turns that into the
 * `/metrics` counter).
 */
import type { AuditDroppedMessage } from '@bastion-mcp/proxy-core';
import { channels } from '@bastion-mcp/proxy-core';
import { AuditSinkError } from './errors.js';
import type { AuditEvent } from './event.js';
import type { AuditSink } from './sinks/sink.js';
import type { DropReason } from './sinks/queue.js';
import { SinkQueue } from './sinks/queue.js';
import { toJsonLine } from './sinks/sink.js';

export interface AuditorStats {
  /** Events accepted by `emit` (after type filtering). */
  emitted: number;
  /** Events skipped by include/exclude type filtering. */
  filtered: number;
  /** Events lost across all sinks (one event lost by two sinks counts twice). */
  droppedEvents: number;
  sinks: Record<string, { written: number; dropped: number; pending: number }>;
}

export interface AuditorOptions {
  sinks: readonly AuditSink[];
  /** Per-sink queue capacity, events. Default 10000. */
  queueSize?: number | undefined;
  /** How long `close()` waits for queues to drain, ms. Default 5000. */
  closeTimeoutMs?: number | undefined;
  /** Called on every drop (for logging); `error` is an `AuditSinkError` for sink failures. Must not throw. */
  onDrop?: ((info: { sink: string; reason: DropReason; count: number; error?: unknown }) => void) | undefined;
}

export class Auditor {
  readonly #queues: SinkQueue[];
  /** Whether a sink writes JSON lines: each event is then serialised once, as it is emitted. */
  readonly #lines: boolean;
  readonly #closeTimeoutMs: number;
  #closed = false;
  #emitted = 0;
  #filtered = 0;
  #dropped = 0;

  constructor(options: AuditorOptions) {
    const queueSize = options.queueSize ?? 10_000;
    if (!Number.isSafeInteger(queueSize) || queueSize < 1)
      throw new TypeError('"queueSize" must be a positive integer');
    const closeTimeoutMs = options.closeTimeoutMs ?? 5000;
    if (!Number.isFinite(closeTimeoutMs) || closeTimeoutMs < 0) {
      throw new TypeError('"closeTimeoutMs" must be a non-negative number');
    }
    this.#closeTimeoutMs = closeTimeoutMs;
    const names = new Set<string>();
    for (const s of options.sinks) {
      if (!s || typeof s.write !== 'function' || typeof s.name !== 'string') {
        throw new TypeError('"sinks" entries must have a string "name" and a "write" function');
      }
      const interval = s.flushIntervalMs;
      if (interval !== undefined && (!Number.isFinite(interval) || interval < 0 || interval > 60_000)) {
        throw new TypeError(`sink "${s.name}": "flushIntervalMs" must be a number of ms between 0 and 60000`);
      }
      if (names.has(s.name))
        throw new TypeError(`"sinks" has two sinks named "${s.name}"; give them distinct names`);
      names.add(s.name);
    }
    const onDrop = options.onDrop;
    this.#queues = options.sinks.map(
      (sink) =>
        new SinkQueue(sink, queueSize, (name, reason, count, error) => {
          this.#dropped += count;
          if (channels.auditDropped.hasSubscribers) {
            for (let i = 0; i < count; i++) {
              channels.auditDropped.publish({ sink: name, reason } satisfies AuditDroppedMessage);
            }
          }
          try {
            const err =
              error === undefined
                ? undefined
                : new AuditSinkError(`audit sink "${name}" failed to write ${count} event(s)`, {
                    sink: name,
                    cause: error,
                  });
            onDrop?.({ sink: name, reason, count, error: err });
          } catch {
            // observers must never break the audit path
          }
        }),
    );
    this.#lines = this.#queues.some((q) => q.wantsLines);
  }

  /** Queue an event on every sink. Never blocks, never throws. */
  emit(event: AuditEvent): void {
    if (this.#closed) return;
    this.#emitted++;
    let line: string | undefined;
    if (this.#lines) {
      try {
        line = toJsonLine(event);
      } catch {
        // not serialisable: each JSON-lines sink fails on it in its own write and counts the drop
      }
    }
    for (const q of this.#queues) q.push(event, line);
  }

  /** Count an event that type filtering skipped. */
  skip(): void {
    this.#filtered++;
  }

  /** Total events dropped so far. */
  get droppedEvents(): number {
    return this.#dropped;
  }

  stats(): AuditorStats {
    const sinks: AuditorStats['sinks'] = {};
    for (const q of this.#queues) {
      sinks[q.sink.name] = { written: q.written, dropped: q.dropped, pending: q.pending };
    }
    return { emitted: this.#emitted, filtered: this.#filtered, droppedEvents: this.#dropped, sinks };
  }

  /** Wait until every queued event was handed to its sink (bounded by `timeoutMs`). */
  async flush(timeoutMs = this.#closeTimeoutMs): Promise<boolean> {
    const results = await Promise.all(this.#queues.map((q) => q.flush(timeoutMs)));
    return results.every(Boolean);
  }

  /** Stop accepting events, drain the queues (bounded), then close the sinks. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(
      this.#queues.map(async (q) => {
        const drained = await q.flush(this.#closeTimeoutMs);
        if (!drained) {
          q.abandon();
          return; // a stuck sink is not closed: its close() could hang as well
        }
        await q.sink.close?.();
      }),
    );
  }
}
