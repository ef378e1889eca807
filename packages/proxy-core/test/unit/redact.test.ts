import { inspect } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import type { RedactOptions } from '../../src/index.js';
import { bearerTokenOf, DEFAULT_REDACT_KEYS, REDACTED, redactValue } from '../../src/index.js';

const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';

describe('redactValue', () => {
  it('replaces values under credential-like keys, at any depth, without touching the input', () => {
    const input = { user: 'alice', nested: { password: 'p', apiKey: 'k', list: [{ client_secret: 's' }] } };
    const out = redactValue(input) as typeof input;
    expect(out).toEqual({
      user: 'alice',
      nested: { password: REDACTED, apiKey: REDACTED, list: [{ client_secret: REDACTED }] },
    });
    expect(input.nested.password).toBe('p');
  });

  it('removes JWTs, Bearer credentials and the request token from any string', () => {
    const out = redactValue(
      { note: `token is ${jwt}`, header: 'Bearer abcdefgh12345678', echo: 'x-my-opaque-token-123-x' },
      { secrets: ['my-opaque-token-123'] },
    );
    expect(JSON.stringify(out)).not.toContain(jwt);
    expect(JSON.stringify(out)).not.toContain('abcdefgh12345678');
    expect(JSON.stringify(out)).not.toContain('my-opaque-token-123');
  });

  it('does not redact keys that merely contain "auth" as part of a word', () => {
    expect(redactValue({ author: 'ann', auth: 'x' })).toEqual({ author: 'ann', auth: REDACTED });
  });

  it('with keys: null only scans values', () => {
    expect(redactValue({ password: 'plain' }, { keys: null })).toEqual({ password: 'plain' });
  });

  it('marks cycles and deep nesting instead of throwing, and cuts long strings when asked', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(redactValue(a)).toEqual({ self: '[CIRCULAR]' });
    expect(redactValue({ a: { b: { c: 1 } } }, { maxDepth: 2 })).toEqual({ a: { b: '[TOO_DEEP]' } });
    expect(redactValue('abcdef', { maxStringLength: 3 })).toBe('abc…');
  });
});

describe('redactValue, copy-on-write', () => {
  it('returns the input itself when nothing is redacted, and copies only the path to a change', () => {
    const clean = { a: 'hello', b: [1, 'two', { c: null }], d: { e: true } };
    expect(redactValue(clean, { secrets: ['my-opaque-token-123'] })).toBe(clean);

    const input = {
      keep: { x: 'y' },
      list: [{ ok: 1 }, { deep: { deeper: [`see ${jwt}`] } }],
      n: 1,
    };
    const before = JSON.stringify(input);
    const out = redactValue(input) as typeof input;
    expect(out).not.toBe(input);
    expect(out.keep).toBe(input.keep); // untouched branches are shared
    expect(out.list).not.toBe(input.list);
    expect(out.list[0]).toBe(input.list[0]);
    expect(out.list[1]).toEqual({ deep: { deeper: [`see ${REDACTED}`] } });
    expect(JSON.stringify(input)).toBe(before); // the caller's object is not mutated
  });

  it('copies an object under a redacted key, keeping key order', () => {
    const input = { a: 1, password: 'p', z: { q: 1 } };
    const out = redactValue(input) as typeof input;
    expect(Object.keys(out)).toEqual(['a', 'password', 'z']);
    expect(out).toEqual({ a: 1, password: REDACTED, z: { q: 1 } });
    expect(out.z).toBe(input.z);
    expect(input.password).toBe('p');
  });

  it('drops an own "__proto__" key, as the copying walk always did', () => {
    const input = JSON.parse('{"a":"b","__proto__":{"x":1}}') as Record<string, unknown>;
    expect(JSON.stringify(redactValue(input))).toBe('{"a":"b"}');
  });

  it('still turns class instances, dates and buffers into plain objects of their entries', () => {
    class Point {
      constructor(
        readonly x: number,
        readonly token: string,
      ) {}
    }
    expect(redactValue({ p: new Point(1, 't') })).toEqual({ p: { x: 1, token: REDACTED } });
    expect(redactValue({ d: new Date(0) })).toEqual({ d: {} });
    expect(JSON.stringify(redactValue(Buffer.from('hi')))).toBe('{"0":104,"1":105}');
  });

  it('marks a cycle but not the same object met twice side by side', () => {
    const shared = { v: 'x' };
    const out = redactValue({ a: shared, b: [shared, shared] });
    expect(out).toEqual({ a: { v: 'x' }, b: [{ v: 'x' }, { v: 'x' }] });
    const loop: unknown[] = [];
    loop.push({ back: loop });
    expect(redactValue(loop)).toEqual([{ back: '[CIRCULAR]' }]);
  });

  it('serialises exactly like the copying implementation it replaced, on generated values', () => {
    const rand = prng(0x5eed);
    for (let i = 0; i < 3000; i++) {
      const value = generate(rand, 0);
      const opts = {
        keys: pick(rand, [undefined, null, /^ssn$|secret/i, /token/g]),
        secrets: pick(rand, [undefined, [], [SECRET], ['short', SECRET, undefined], [SECRET8]]),
        maxStringLength: pick(rand, [undefined, undefined, 5, 40]),
        maxDepth: pick(rand, [undefined, 2, 4]),
      };
      const before = inspect(value, { depth: null });
      expect(safeJson(redactValue(value, opts))).toBe(safeJson(referenceRedact(value, opts)));
      expect(inspect(value, { depth: null })).toBe(before);
    }
  });
});

// The copying implementation `redactValue` had before it became copy-on-write: the behaviour it must keep.
function referenceRedact(value: unknown, options: RedactOptions = {}): unknown {
  const keys = options.keys === undefined ? DEFAULT_REDACT_KEYS : options.keys;
  const secrets = (options.secrets ?? []).filter((s): s is string => typeof s === 'string' && s.length >= 8);
  const max = options.maxStringLength ?? Number.POSITIVE_INFINITY;
  const maxDepth = options.maxDepth ?? 64;
  const JWT_PATTERN =
    /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)?/g;
  const BEARER_PATTERN = /\bbearer\s+[A-Za-z0-9._~+/=-]{8,}/gi;
  const scrubString = (s: string): string => {
    let out = s;
    for (const secret of secrets) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    if (out.includes('eyJ')) out = out.replace(JWT_PATTERN, REDACTED);
    if (/bearer/i.test(out)) out = out.replace(BEARER_PATTERN, `Bearer ${REDACTED}`);
    if (out.length > max) out = `${out.slice(0, max)}…`;
    return out;
  };
  const seen = new WeakSet<object>();
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return scrubString(v);
    if (typeof v === 'bigint') return v.toString();
    if (typeof v !== 'object' || v === null) return v;
    if (depth >= maxDepth) return '[TOO_DEEP]';
    if (seen.has(v)) return '[CIRCULAR]';
    seen.add(v);
    let out: unknown;
    if (Array.isArray(v)) {
      out = v.map((item) => walk(item, depth + 1));
    } else {
      const obj: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) {
        if (keys) keys.lastIndex = 0;
        obj[k] = keys?.test(k) ? REDACTED : walk(item, depth + 1);
      }
      out = obj;
    }
    seen.delete(v);
    return out;
  };
  return walk(value, 0);
}

const SECRET = 'opaque-secret-42';
const SECRET8 = 'opaque-s';
const STRINGS = [
  '',
  'x',
  'hello',
  'bearer',
  'Bearer abcdefgh1234',
  'say BEARER   xyz.abc/def= now',
  'bearerabcdefghijk',
  jwt,
  `pre ${jwt} post`,
  'eyJhbGciOi.short',
  `${SECRET}`,
  `a${SECRET}b${SECRET}`,
  '[REDACTED]',
  'é unicode ✓ and a much longer sentence that exceeds forty characters easily',
  'eyJ',
  'eyJabcd.efgh.', // the shortest JWT shape (13)
  'bearer abcdefgh', // the shortest bearer credential (15)
  `x${SECRET8}`,
];
const KEYS = [
  'a',
  'b',
  'name',
  'password',
  'token',
  'ssn',
  'my_secret',
  'list',
  '10',
  '2',
  'author',
  '__proto__',
];

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)] as T;
}

function generate(rand: () => number, depth: number): unknown {
  const r = rand();
  if (depth > 5 || r < 0.45) {
    return pick(rand, [
      () => pick(rand, STRINGS),
      () => Math.floor(rand() * 100),
      () => rand() < 0.5,
      () => null,
      () => undefined,
      () => 10n,
      () => Number.NaN,
    ])();
  }
  if (r < 0.6) {
    const arr: unknown[] = [];
    const n = Math.floor(rand() * 4);
    for (let i = 0; i < n; i++) arr.push(generate(rand, depth + 1));
    if (rand() < 0.1) arr.length += 2; // holes
    return arr;
  }
  if (r < 0.65) return pick(rand, [new Date(0), Buffer.from('ab'), new Map([[1, 2]])]);
  const text = `{${Array.from({ length: Math.floor(rand() * 4) }, () => `${JSON.stringify(pick(rand, KEYS))}:0`).join(',')}}`;
  const obj = (rand() < 0.1 ? Object.create(null) : JSON.parse(text)) as Record<string, unknown>;
  for (const k of Object.keys(obj)) obj[k] = generate(rand, depth + 1);
  if (rand() < 0.05) obj.self = obj; // a cycle
  return obj;
}

function safeJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x)) ?? 'undefined';
}

describe('bearerTokenOf', () => {
  it('extracts only a well-formed bearer credential', () => {
    expect(bearerTokenOf('Bearer abc')).toBe('abc');
    expect(bearerTokenOf(['bearer xyz'])).toBe('xyz');
    expect(bearerTokenOf('Basic abc')).toBeUndefined();
    expect(bearerTokenOf(undefined)).toBeUndefined();
  });
});
