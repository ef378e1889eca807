/**
 * The exchanged-token cache: a bounded LRU of values with absolute expiry, plus single-flight
 * loading so that N concurrent lookups of one missing key run the loader exactly once.
 *
 * Keys are opaque strings built by `cacheKey()` (a SHA-256 of the subject token, never the token).
 * Failures are never cached: the next lookup after a failed load starts a new load.
 */
import { createHash } from 'node:crypto';

/** What a loader returns: the value and when it stops being usable (epoch ms). */
export interface Loaded<V> {
  readonly value: V;
  /** Absolute expiry in epoch milliseconds. At or before `now()` the value is used once, not stored. */
  readonly expiresAtMs: number;
}

/** How a lookup was served. */
export type LookupSource = 'hit' | 'loaded' | 'coalesced';

export interface Lookup<V> {
  readonly value: V;
  /** `hit`: from the cache; `loaded`: this call ran the loader; `coalesced`: joined a load in flight. */
  readonly source: LookupSource;
}

export interface TokenCacheOptions {
  /** Maximum number of stored entries; the least recently used is evicted first. Default 10 000. `0` disables storing (single-flight still applies). */
  readonly maxEntries?: number | undefined;
  /** Clock in epoch milliseconds. Default `Date.now`. */
  readonly now?: (() => number) | undefined;
}

interface Entry<V> {
  readonly value: V;
  readonly expiresAtMs: number;
}

/** A bounded, expiring LRU cache with single-flight loading. Safe to share between middlewares. */
export class TokenCache<V = string> {
  readonly maxEntries: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry<V>>();
  readonly #inflight = new Map<string, Promise<Loaded<V>>>();

  constructor(options: TokenCacheOptions = {}) {
    const max = options.maxEntries ?? 10_000;
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new TypeError('"maxEntries" must be a non-negative integer');
    }
    if (options.now !== undefined && typeof options.now !== 'function') {
      throw new TypeError('"now" must be a function returning epoch milliseconds');
    }
    this.maxEntries = max;
    this.#now = options.now ?? Date.now;
  }

  /** Number of stored entries (expired ones included until they are touched or evicted). */
  get size(): number {
    return this.#entries.size;
  }

  /** Number of loads in flight. */
  get inflight(): number {
    return this.#inflight.size;
  }

  /** The stored, unexpired value of `key`, refreshing its LRU position; `undefined` otherwise. */
  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAtMs <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Store a value until `expiresAtMs` (ignored when already expired or storing is disabled). */
  set(key: string, value: V, expiresAtMs: number): void {
    this.#entries.delete(key);
    if (this.maxEntries === 0 || !(expiresAtMs > this.#now())) return;
    this.#entries.set(key, { value, expiresAtMs });
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }

  delete(key: string): boolean {
    return this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  /**
   * The value of `key`: from the cache, or from the load already in flight for it, or from a new call
   * of `load` (whose result is stored until its `expiresAtMs`). A failed load rejects every caller
   * waiting on it and is not remembered.
   */
  async getOrLoad(key: string, load: () => Promise<Loaded<V>>): Promise<Lookup<V>> {
    const cached = this.get(key);
    if (cached !== undefined) return { value: cached, source: 'hit' };
    const pending = this.#inflight.get(key);
    if (pending !== undefined) return { value: (await pending).value, source: 'coalesced' };

    // `load` starts on a microtask, after the flight is registered, so even a loader that throws
    // synchronously settles through the flight and is unregistered.
    const flight = Promise.resolve()
      .then(load)
      .then((loaded) => {
        this.set(key, loaded.value, loaded.expiresAtMs);
        return loaded;
      })
      .finally(() => {
        this.#inflight.delete(key);
      });
    this.#inflight.set(key, flight);
    return { value: (await flight).value, source: 'loaded' };
  }
}

/** SHA-256 of a token, base64url (what cache keys contain instead of the token). */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * A cache key made of its parts, unambiguously joined (each part is length-prefixed, so no choice of
 * audience/scope/resource values can make two different tuples collide).
 */
export function cacheKey(parts: readonly string[]): string {
  return parts.map((p) => `${p.length}:${p}`).join('|');
}
