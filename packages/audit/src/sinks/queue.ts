/**
 * A bounded queue in front of one sink. `push` never blocks and never throws: when the queue is full
 * the event is dropped and reported. One worker drains the queue in batches.
 */
import type { AuditEvent } from '../event.js';
import type { AuditSink } from './sink.js';

export type DropReason = 'queue-full' | 'sink-error';

const MAX_BATCH = 256;

export class SinkQueue {
  readonly sink: AuditSink;
  readonly #capacity: number;
  readonly #onDrop: (sink: string, reason: DropReason, count: number, error?: unknown) => void;
  #items: AuditEvent[] = [];
  #running: Promise<void> | undefined;
  written = 0;
  dropped = 0;

  constructor(
    sink: AuditSink,
    capacity: number,
    onDrop: (sink: string, reason: DropReason, count: number, error?: unknown) => void,
  ) {
    this.sink = sink;
    this.#capacity = capacity;
    this.#onDrop = onDrop;
  }

  get pending(): number {
    return this.#items.length;
  }

  push(event: AuditEvent): boolean {
    if (this.#items.length >= this.#capacity) {
      this.dropped++;
      this.#onDrop(this.sink.name, 'queue-full', 1);
      return false;
    }
    this.#items.push(event);
    if (this.#running === undefined) {
      this.#running = this.#drain().finally(() => {
        this.#running = undefined;
      });
    }
    return true;
  }

  async #drain(): Promise<void> {
    // Let the request that produced the event finish before any sink work starts.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.#items.length > 0) {
      const batch = this.#items.splice(0, MAX_BATCH);
      try {
        await this.sink.write(batch);
        this.written += batch.length;
      } catch (err) {
        this.dropped += batch.length;
        this.#onDrop(this.sink.name, 'sink-error', batch.length, err);
      }
    }
  }

  /** Resolves when everything queued so far was handed to the sink (or `timeoutMs` passed). */
  async flush(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
    });
    try {
      while (this.#running !== undefined) {
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
    const n = this.#items.length;
    this.#items = [];
    if (n > 0) {
      this.dropped += n;
      this.#onDrop(this.sink.name, 'sink-error', n);
    }
  }
}
