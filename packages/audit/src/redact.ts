/**
 * Redaction of audit payloads: key-based (configured pattern) plus a value scan that removes anything
 * shaped like a JWT and every occurrence of the request's bearer token, so no access token ever lands
 * in an audit event, not even inside tool arguments.
 */

export const REDACTED = '[REDACTED]';

/** Default key pattern: anything named like a password, token, secret, key or credential. */
export const DEFAULT_REDACT_KEYS = /password|passwd|token|secret|key|authorization|cookie|credential/i;

/** A compact JWS/JWE: base64url JSON header (`eyJ`), then 2 or 4 more base64url segments. */
const JWT_PATTERN =
  /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)?/g;

const MAX_DEPTH = 64;

export interface ScrubOptions {
  /** Keys whose values are replaced. `undefined` means: value scan only. */
  keys?: RegExp | undefined;
  /** Secrets (the bearer token of the request) whose every occurrence is replaced. */
  secrets?: readonly string[] | undefined;
}

function scrubString(s: string, secrets: readonly string[]): string {
  let out = s;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  if (out.includes('eyJ')) out = out.replace(JWT_PATTERN, REDACTED);
  return out;
}

/**
 * Deep copy of `value` with redaction applied. Cycles and nesting deeper than 64 levels are replaced
 * by a marker instead of throwing. Never mutates its input.
 */
export function scrub(value: unknown, options: ScrubOptions = {}): unknown {
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 8);
  const keys = options.keys;
  const seen = new WeakSet<object>();
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return scrubString(v, secrets);
    if (typeof v !== 'object' || v === null) return v;
    if (depth >= MAX_DEPTH) return '[TOO_DEEP]';
    if (seen.has(v)) return '[CIRCULAR]';
    seen.add(v);
    let out: unknown;
    if (Array.isArray(v)) {
      out = v.map((item) => walk(item, depth + 1));
    } else {
      const obj: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) {
        if (keys?.test(k)) {
          keys.lastIndex = 0;
          obj[k] = REDACTED;
        } else {
          obj[k] = walk(item, depth + 1);
        }
      }
      out = obj;
    }
    seen.delete(v);
    return out;
  };
  return walk(value, 0);
}

/** The bearer credential of an `Authorization` header value, if any (used only to redact it). */
export function bearerOf(authorization: string | string[] | undefined): string | undefined {
  const v = Array.isArray(authorization) ? authorization[0] : authorization;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(v);
  return m?.[1];
}
