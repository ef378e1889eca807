import { describe, expect, it } from '@jest/globals';
import { cacheKey, hashToken, TokenCache } from '../src/cache.js';

function clock(start = 1_000_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe('TokenCache', () => {
  it('returns a stored value until its expiry and drops it at expiry', () => {
    const c = clock();
    const cache = new TokenCache<string>({ now: c.now });
    cache.set('k', 'v', c.now() + 1000);
    expect(cache.get('k')).toBe('v');
    c.advance(999);
    expect(cache.get('k')).toBe('v');
    c.advance(1);
    expect(cache.get('k')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('does not store a value that is already expired', () => {
    const c = clock();
    const cache = new TokenCache<string>({ now: c.now });
    cache.set('k', 'v', c.now());
    expect(cache.size).toBe(0);
  });

  it('evicts the least recently used entry beyond maxEntries', () => {
    const c = clock();
    const cache = new TokenCache<string>({ maxEntries: 2, now: c.now });
    cache.set('a', '1', c.now() + 10_000);
    cache.set('b', '2', c.now() + 10_000);
    expect(cache.get('a')).toBe('1'); // a is now most recently used
    cache.set('c', '3', c.now() + 10_000);
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe('1');
    expect(cache.get('c')).toBe('3');
  });

  it('stores nothing with maxEntries 0', () => {
    const cache = new TokenCache<string>({ maxEntries: 0 });
    cache.set('a', '1', Date.now() + 10_000);
    expect(cache.size).toBe(0);
  });

  it('rejects invalid options with a TypeError naming the option', () => {
    expect(() => new TokenCache({ maxEntries: -1 })).toThrow(/"maxEntries"/);
    expect(() => new TokenCache({ maxEntries: 1.5 })).toThrow(TypeError);
    expect(() => new TokenCache({ now: 5 as unknown as () => number })).toThrow(/"now"/);
  });
});

describe('TokenCache.getOrLoad', () => {
  it('runs the loader once for N concurrent lookups of one key (single-flight)', async () => {
    const cache = new TokenCache<string>();
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const load = async () => {
      calls++;
      await gate;
      return { value: 'tok', expiresAtMs: Date.now() + 60_000 };
    };
    const lookups = Array.from({ length: 50 }, () => cache.getOrLoad('k', load));
    expect(cache.inflight).toBe(1);
    release();
    const results = await Promise.all(lookups);
    expect(calls).toBe(1);
    expect(results.every((r) => r.value === 'tok')).toBe(true);
    expect(results.filter((r) => r.source === 'loaded')).toHaveLength(1);
    expect(results.filter((r) => r.source === 'coalesced')).toHaveLength(49);
    expect(cache.inflight).toBe(0);
    expect(await cache.getOrLoad('k', load)).toEqual({ value: 'tok', source: 'hit' });
    expect(calls).toBe(1);
  });

  it('loads different keys independently', async () => {
    const cache = new TokenCache<string>();
    let calls = 0;
    const load = (v: string) => async () => {
      calls++;
      return { value: v, expiresAtMs: Date.now() + 60_000 };
    };
    const [a, b] = await Promise.all([cache.getOrLoad('a', load('A')), cache.getOrLoad('b', load('B'))]);
    expect([a.value, b.value]).toEqual(['A', 'B']);
    expect(calls).toBe(2);
  });

  it('rejects every waiter of a failed load and does not remember the failure', async () => {
    const cache = new TokenCache<string>();
    let calls = 0;
    const failing = async () => {
      calls++;
      await Promise.resolve();
      throw new Error('sts down');
    };
    const results = await Promise.allSettled([cache.getOrLoad('k', failing), cache.getOrLoad('k', failing)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toBe(1);
    expect(cache.inflight).toBe(0);
    const ok = await cache.getOrLoad('k', async () => ({ value: 'v', expiresAtMs: Date.now() + 1000 }));
    expect(ok).toEqual({ value: 'v', source: 'loaded' });
  });

  it('unregisters a loader that throws synchronously', async () => {
    const cache = new TokenCache<string>();
    const sync = (() => {
      throw new Error('boom');
    }) as unknown as () => Promise<{ value: string; expiresAtMs: number }>;
    await expect(cache.getOrLoad('k', sync)).rejects.toThrow('boom');
    expect(cache.inflight).toBe(0);
  });

  it('hands an already-expired load result to its waiters without storing it', async () => {
    const c = clock();
    const cache = new TokenCache<string>({ now: c.now });
    let calls = 0;
    const load = async () => {
      calls++;
      return { value: `v${calls}`, expiresAtMs: c.now() - 1 };
    };
    const [a, b] = await Promise.all([cache.getOrLoad('k', load), cache.getOrLoad('k', load)]);
    expect([a.value, b.value]).toEqual(['v1', 'v1']);
    expect(cache.size).toBe(0);
    expect((await cache.getOrLoad('k', load)).value).toBe('v2');
  });

  it('loads again after the stored value expires', async () => {
    const c = clock();
    const cache = new TokenCache<string>({ now: c.now });
    let calls = 0;
    const load = async () => ({ value: `v${++calls}`, expiresAtMs: c.now() + 1000 });
    expect((await cache.getOrLoad('k', load)).value).toBe('v1');
    c.advance(500);
    expect(await cache.getOrLoad('k', load)).toEqual({ value: 'v1', source: 'hit' });
    c.advance(500);
    expect(await cache.getOrLoad('k', load)).toEqual({ value: 'v2', source: 'loaded' });
  });
});

describe('cacheKey and hashToken', () => {
  it('never contains the token and is stable', () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.secret-payload.sig';
    const h = hashToken(token);
    expect(h).toBe(hashToken(token));
    expect(h).not.toContain('secret');
    expect(h).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('does not collide when parts shift between positions', () => {
    expect(cacheKey(['a b', 'c'])).not.toBe(cacheKey(['a', 'b c']));
    expect(cacheKey(['a|1:b', ''])).not.toBe(cacheKey(['a', 'b']));
    expect(cacheKey(['x', 'y'])).toBe(cacheKey(['x', 'y']));
  });
});
