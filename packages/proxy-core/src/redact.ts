/**
 * Redaction shared by every layer that may record request data (audit payloads, span attributes):
 * one rule set, so what audit hides telemetry hides too. Values under keys named like a credential are
 * replaced, every JWT-shaped string, every `Bearer <credential>` and every occurrence of the request's
 * own token is replaced. Never mutates its input.
 */

export const REDACTED = '[REDACTED]';

/** Default key pattern: anything named like a password, token, secret, key, cookie or credential. */
export const DEFAULT_REDACT_KEYS =
  /password|passwd|token|secret|key|authorization|^auth$|cookie|credential|private/i;

/** A compact JWS/JWE: base64url JSON header (`eyJ`), then 2 or 4 more base64url segments. */
const JWT_PATTERN =
  /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)?/g;
/** `Bearer <credential>` anywhere in a string. */
const BEARER_PATTERN = /\bbearer\s+[A-Za-z0-9._~+/=-]{8,}/gi;

export interface RedactOptions {
  /** Keys whose values are replaced. Default {@link DEFAULT_REDACT_KEYS}; `null`: value scan only. */
  keys?: RegExp | null | undefined;
  /** Secrets (the request's bearer token) whose every occurrence is replaced. Shorter than 8 chars: ignored. */
  secrets?: readonly (string | undefined)[] | undefined;
  /** Longest string value kept, in characters; longer ones are cut and end with `…`. Default: no limit. */
  maxStringLength?: number | undefined;
  /** Nesting deeper than this becomes `[TOO_DEEP]`. Default 64. */
  maxDepth?: number | undefined;
}

// Lower bounds on what can match: a string shorter than the shortest secret (8), JWT (`eyJ` + 4 + `.`
// + 4 + `.`: 13) or bearer credential (`bearer` + 1 + 8: 15) is returned without any scan.
const MIN_SECRET = 8;
const MIN_JWT = 13;
const MIN_BEARER = 15;
const BEARER_WORD = /bearer/i;
const NO_SECRETS: readonly string[] = [];

function scrubString(s: string, secrets: readonly string[], max: number): string {
  let out = s;
  if (out.length >= MIN_SECRET) {
    for (let i = 0; i < secrets.length; i++) {
      const secret = secrets[i] as string;
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    if (out.length >= MIN_JWT && out.includes('eyJ')) out = out.replace(JWT_PATTERN, REDACTED);
    if (out.length >= MIN_BEARER && BEARER_WORD.test(out))
      out = out.replace(BEARER_PATTERN, `Bearer ${REDACTED}`);
  }
  if (out.length > max) out = `${out.slice(0, max)}…`;
  return out;
}

/** What one `redactValue` call walks with (one object per call instead of a closure per call). */
interface Walk {
  readonly keys: RegExp | null;
  readonly secrets: readonly string[];
  readonly max: number;
  readonly maxDepth: number;
  /** The objects being walked, outermost first: meeting one again is a cycle. */
  readonly path: object[];
}

function walk(v: unknown, depth: number, w: Walk): unknown {
  if (typeof v === 'string') return scrubString(v, w.secrets, w.max);
  if (typeof v !== 'object' || v === null) return typeof v === 'bigint' ? v.toString() : v;
  if (depth >= w.maxDepth) return '[TOO_DEEP]';
  if (w.path.includes(v)) return '[CIRCULAR]';
  w.path.push(v);
  let out: unknown;
  if (Array.isArray(v)) {
    out = walkArray(v, depth, w);
  } else {
    const proto = Object.getPrototypeOf(v);
    out =
      proto === Object.prototype || proto === null
        ? walkPlain(v as Record<string, unknown>, depth, w)
        : copyOther(v, depth, w);
  }
  w.path.pop();
  return out;
}

/** Copy-on-write: the array itself when no item changed. */
function walkArray(v: readonly unknown[], depth: number, w: Walk): unknown {
  let copy: unknown[] | undefined;
  for (let i = 0; i < v.length; i++) {
    const item = v[i];
    const r = walk(item, depth + 1, w);
    if (r !== item) {
      copy ??= v.slice(); // keeps holes, like `map`
      copy[i] = r;
    }
  }
  return copy ?? v;
}

/**
 * Copy-on-write for plain objects (JSON data): the object itself when no value changed. A copy is
 * built by assignment in key order, which does not carry an own `__proto__` key (JSON.parse makes
 * one) over as a key; an object with one is always copied, so the result never has such a key.
 */
function walkPlain(v: Record<string, unknown>, depth: number, w: Walk): unknown {
  const names = Object.keys(v);
  const keys = w.keys;
  let copy: Record<string, unknown> | undefined;
  for (let i = 0; i < names.length; i++) {
    const k = names[i] as string;
    const item = v[k];
    let r: unknown;
    if (keys !== null) {
      keys.lastIndex = 0;
      r = keys.test(k) ? REDACTED : walk(item, depth + 1, w);
    } else {
      r = walk(item, depth + 1, w);
    }
    if (copy !== undefined) {
      copy[k] = r;
    } else if (r !== item || k === '__proto__') {
      copy = {};
      for (let j = 0; j < i; j++) {
        const kj = names[j] as string;
        copy[kj] = v[kj];
      }
      copy[k] = r;
    }
  }
  return copy ?? v;
}

/** Anything else (class instances, Dates, Maps, buffers ...) becomes a plain object of its own entries. */
function copyOther(v: object, depth: number, w: Walk): Record<string, unknown> {
  const keys = w.keys;
  const obj: Record<string, unknown> = {};
  for (const [k, item] of Object.entries(v)) {
    if (keys) keys.lastIndex = 0;
    obj[k] = keys?.test(k) ? REDACTED : walk(item, depth + 1, w);
  }
  return obj;
}

/**
 * `value` with redaction applied, copy-on-write: arrays and plain objects in which nothing was
 * redacted are returned as they are (the result shares them with the input), everything that
 * changed is a copy; the input is never mutated. Cycles and nesting deeper than `maxDepth` become
 * markers instead of throwing; bigints become strings; other objects (class instances) become
 * plain objects of their own enumerable entries.
 */
export function redactValue(value: unknown, options: RedactOptions = {}): unknown {
  const max = options.maxStringLength ?? Number.POSITIVE_INFINITY;
  const secrets = secretsOf(options.secrets);
  if (typeof value === 'string') return scrubString(value, secrets, max);
  if (typeof value !== 'object' || value === null) return walk(value, 0, UNUSED);
  const w: Walk = {
    keys: options.keys === undefined ? DEFAULT_REDACT_KEYS : options.keys,
    secrets,
    max,
    maxDepth: options.maxDepth ?? 64,
    path: [],
  };
  return walk(value, 0, w);
}

const UNUSED: Walk = {
  keys: null,
  secrets: NO_SECRETS,
  max: Number.POSITIVE_INFINITY,
  maxDepth: 64,
  path: [],
};

function secretsOf(secrets: readonly (string | undefined)[] | undefined): readonly string[] {
  if (secrets === undefined || secrets.length === 0) return NO_SECRETS;
  if (secrets.length === 1) {
    const s = secrets[0];
    return typeof s === 'string' && s.length >= MIN_SECRET ? (secrets as readonly string[]) : NO_SECRETS;
  }
  return secrets.filter((s): s is string => typeof s === 'string' && s.length >= MIN_SECRET);
}

/** The bearer credential of an `Authorization` header value, if any (used only to redact it). */
export function bearerTokenOf(authorization: string | string[] | undefined): string | undefined {
  const v = Array.isArray(authorization) ? authorization[0] : authorization;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(v);
  return m?.[1];
}
