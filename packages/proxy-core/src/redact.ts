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

function scrubString(s: string, secrets: readonly string[], max: number): string {
  let out = s;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  if (out.includes('eyJ')) out = out.replace(JWT_PATTERN, REDACTED);
  if (/bearer/i.test(out)) out = out.replace(BEARER_PATTERN, `Bearer ${REDACTED}`);
  if (out.length > max) out = `${out.slice(0, max)}…`;
  return out;
}

/**
 * Deep copy of `value` with redaction applied. Cycles and nesting deeper than `maxDepth` become
 * markers instead of throwing; bigints become strings.
 */
export function redactValue(value: unknown, options: RedactOptions = {}): unknown {
  const keys = options.keys === undefined ? DEFAULT_REDACT_KEYS : options.keys;
  const secrets = (options.secrets ?? []).filter((s): s is string => typeof s === 'string' && s.length >= 8);
  const max = options.maxStringLength ?? Number.POSITIVE_INFINITY;
  const maxDepth = options.maxDepth ?? 64;
  const seen = new WeakSet<object>();
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return scrubString(v, secrets, max);
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

/** The bearer credential of an `Authorization` header value, if any (used only to redact it). */
export function bearerTokenOf(authorization: string | string[] | undefined): string | undefined {
  const v = Array.isArray(authorization) ? authorization[0] : authorization;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(v);
  return m?.[1];
}
