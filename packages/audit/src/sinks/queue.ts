/**
 * A bounded queue in front of one sink. `push` never blocks and never throws: when the queue is full
 * the event is dropped and reported. One worker drains the queue in batches, in order.
 *
 * When the sink asks for it (`flushIntervalMs` > 0), the worker gathers events for up to that long
 * before its first write, so a sink whose every write is a system call (the file sink) writes many
 * events at once instead of one per request. It starts at once when `MAX_BATCH` events are waiting,
 * or when `flush()` (and so `close()`) asks for everything queued.
 */
import type { AuditEvent } from '../event.js';
import type { AuditSink } from './sink.js';

export type DropReason = 'queue-full' | 'sink-error';

/** Largest batch handed to one `write`; that many waiting events also end the gathering wait. */
export const MAX_BATCH = 256;

export class SinkQueue {
  readonly sink: AuditSink;
  readonly #capacity: number;
  readonly #intervalMs: number;
  readonly #onDrop: (sink: string, reason: DropReason, count: number, error?: unknown) => void;
  #items: AuditEvent[] = [];
  /** The JSON line of each queued event, for a `jsonLines` sink (`undefined`: could not serialise). */
  readonly #lines: (string | undefined)[] | undefined;
  #running: Promise<void> | undefined;
  /** Ends the current gathering wait early (set while the worker waits for its timer). */
  #wake: (() => void) | undefined;
  written = 0;
  dropped = 0;

  constructor(
    sink: AuditSink,
    capacity: number,
    onDrop: (sink: string, reason: DropReason, count: number, error?: unknown) => void,
  ) {
    this.sink = sink;
    this.#capacity = capacity;
    this.#intervalMs = sink.flushIntervalMs ?? 0;
    this.#onDrop = onDrop;
    this.#lines = sink.jsonLines === true ? [] : undefined;
  }

  /** Whether `push` wants each event's JSON line. */
  get wantsLines(): boolean {
    return this.#lines !== undefined;
  }

  get pending(): number {
    return this.#items.length;
  }

  /** `line`: the event's JSON line (`toJsonLine`), for a `jsonLines` sink. */
  push(event: AuditEvent, line?: string): boolean {
    if (this.#items.length >= this.#capacity) {
      this.dropped++;
      this.#onDrop(this.sink.name, 'queue-full', 1);
      return false;
    }
    this.#items.push(event);
    this.#lines?.push(line);
    if (this.#running === undefined) {
      this.#running = this.#drain().finally(() => {
        this.#running = undefined;
      });
    } else if (this.#wake !== undefined && this.#items.length >= MAX_BATCH) {
      this.#wake();
    }
    return true;
  }

  /** Let the request that produced the event finish (and, with an interval, more events arrive). */
  #gather(): Promise<void> {
    if (this.#intervalMs === 0) return new Promise<void>((resolve) => setImmediate(resolve));
    return new Promise<void>((resolve) => {
      // Not unref'd: a process that is about to exit on its own still writes what it audited.
      const timer = setTimeout(() => wake(), this.#intervalMs);
      const wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      this.#wake = wake;
    });
  }

  async #drain(): Promise<void> {
    await this.#gather();
    while (this.#items.length > 0) {
      const batch = this.#items.splice(0, MAX_BATCH);
      const text = this.#lines === undefined ? undefined : joinLines(this.#lines.splice(0, MAX_BATCH));
      try {
        await this.sink.write(batch, text);
        this.written += batch.length;
      } catch (err) {
        this.dropped += batch.length;
        this.#onDrop(this.sink.name, 'sink-error', batch.length, err);
      }
    }
  }

  /**
   * Write everything queued so far without waiting for the gathering interval; resolves when it was
   * handed to the sink (true) or `timeoutMs` passed (false).
   */
  async flush(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
    });
    try {
      while (this.#running !== undefined) {
        this.#wake?.();
        const done = await Promise.race([this.#running.then(() => true as const), timeout]);
        if (!done) return false;
      }
      return true;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Events still queued when the sink is abandoned are counted as dropped. */
  abandon(): void {
    this.#wake?.();
    const n = this.#items.length;
    this.#items = [];
    this.#lines?.splice(0);
    if (n > 0) {
      this.dropped += n;
      this.#onDrop(this.sink.name, 'sink-error', n);
    }
  }
}

/** The batch's text, or `undefined` when an event has no line (the sink serialises, and fails, itself). */
function joinLines(lines: readonly (string | undefined)[]): string | undefined {
  let text = '';
  for (const line of lines) {
    if (line === undefined) return undefined;
    text += line;
  }
  return text;
}
