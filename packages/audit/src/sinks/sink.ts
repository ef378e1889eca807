/** The sink interface: where audit events go. */
import type { AuditEvent } from '../event.js';

export interface AuditSink {
  /** Stable name used in stats and drop reports (`stdout`, `file`, `otel`, or your own). */
  readonly name: string;
  /**
   * How long the queue in front of the sink gathers events before a write, ms (default 0: right
   * after the current I/O phase). A sink whose every write is a system call sets it so that one write
   * carries many events. `flush()` and `close()` never wait for it.
   */
  readonly flushIntervalMs?: number | undefined;
  /**
   * `true` for a sink that writes JSON lines (stdout, file): `write` then also gets the batch as that
   * text (`toJsonLines(events)`), each event serialised once when it was emitted, however many such
   * sinks there are.
   */
  readonly jsonLines?: boolean | undefined;
  /**
   * Write a batch of events, in order. Resolve once written (or handed to the OS); reject on failure
   * (the batch is then counted as dropped). Called by one queue worker at a time, never concurrently.
   * `text` is the batch as JSON lines, given to `jsonLines` sinks only, and not when an event could not
   * be serialised (`toJsonLines(events)` throws on it, and the batch is dropped).
   */
  write(events: readonly AuditEvent[], text?: string): Promise<void>;
  /** Flush and release resources. */
  close?(): Promise<void>;
}

/** One JSON line per event. */
export function toJsonLines(events: readonly AuditEvent[]): string {
  let out = '';
  for (const e of events) out += toJsonLine(e);
  return out;
}

/** The JSON line of one event, newline included. */
export function toJsonLine(event: AuditEvent): string {
  return `${JSON.stringify(event)}\n`;
}
