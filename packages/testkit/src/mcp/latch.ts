/**
 * A one-shot gate controlled by a test. Tools wait on it; the test opens it with `release()`. Once
 * released it stays open, so every later `wait()` resolves at once.
 */
export interface Latch {
  readonly name: string;
  /** True once `release()` was called. */
  readonly released: boolean;
  /** Resolves the first time a tool starts waiting on this latch (lets tests sync without timing). */
  readonly reached: Promise<void>;
  /** Opens the gate; idempotent. */
  release(): void;
  /** Resolves when released; rejects with the signal's reason if `signal` aborts first. */
  wait(signal?: AbortSignal): Promise<void>;
}

class GateLatch implements Latch {
  readonly name: string;
  readonly reached: Promise<void>;
  #released = false;
  #open!: () => void;
  #markReached!: () => void;
  readonly #opened: Promise<void>;

  constructor(name: string) {
    this.name = name;
    this.#opened = new Promise<void>((resolve) => {
      this.#open = resolve;
    });
    this.reached = new Promise<void>((resolve) => {
      this.#markReached = resolve;
    });
  }

  get released(): boolean {
    return this.#released;
  }

  release(): void {
    this.#released = true;
    this.#open();
  }

  wait(signal?: AbortSignal): Promise<void> {
    this.#markReached();
    if (this.#released) return Promise.resolve();
    if (signal === undefined) return this.#opened;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      void this.#opened.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }
}

/** Named latches created on first use, shared by every session of one upstream. */
export class LatchRegistry {
  readonly #latches = new Map<string, GateLatch>();

  get(name: string): Latch {
    if (typeof name !== 'string' || name === '')
      throw new TypeError('latch "name" must be a non-empty string');
    let latch = this.#latches.get(name);
    if (latch === undefined) {
      latch = new GateLatch(name);
      this.#latches.set(name, latch);
    }
    return latch;
  }

  /** Releases every latch (used on close so no tool stays parked) and forgets them. */
  releaseAll(): void {
    for (const latch of this.#latches.values()) latch.release();
    this.#latches.clear();
  }
}
