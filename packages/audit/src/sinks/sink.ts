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
   * Write a batch of events, in order. Resolve once written (or handed to the OS); reject on failure
   * (the batch is then counted as dropped). Called by one queue worker at a time, never concurrently.
   */
  write(events: readonly AuditEvent[]): Promise<void>;
  /** Flush and release resources. */
  close?(): Promise<void>;
}

/** One JSON line per event. */
export function toJsonLines(events: readonly AuditEvent[]): string {
  let out = '';
  for (const e of events) out += `${JSON.stringify(e)}\n`;
  return out;
}
