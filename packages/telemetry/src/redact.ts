/**
 * Redaction of tool arguments before they may be recorded on a span. The rules mirror the audit
 * package's (middleware packages never import each other): values under keys named like a password,
 * token, secret, key, authorization, cookie or credential are replaced, every JWT-shaped string and
 * every occurrence of the request's own bearer token is replaced, long strings are cut.
 */

export const REDACTED = '[REDACTED]';

/** Default key pattern: anything named like a password, token, secret, key or credential. */
export const DEFAULT_REDACT_KEYS =
  /password|passwd|token|secret|key|authorization|auth|cookie|credential|private/i;

/** A compact JWS/JWE: base64url JSON header (`eyJ`), then 2 or 4 more base64url segments. */
const JWT_PATTERN =
  /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)?/g;
/** `Bearer <credential>` anywhere in a string. */
const BEARER_PATTERN = /\bbearer\s+[A-Za-z0-9._~+/=-]{8,}/gi;

const MAX_DEPTH = 32;

export interface RedactOptions {
  /** Keys whose values are replaced. Default {@link DEFAULT_REDACT_KEYS}. */
  keys?: RegExp | undefined;
  /** Secrets (the request's bearer token) whose every occurrence is replaced. Shorter than 8 chars: ignored. */
  secrets?: readonly (string | undefined)[] | undefined;
  /** Longest string value kept, in characters; longer ones are cut and end with `…`. Default 256. */
  maxStringLength?: number | undefined;
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
 * Deep copy of `value` with redaction applied. Cycles and nesting deeper than 32 levels become
 * markers instead of throwing; the input is never mutated.
 */
export function redactValue(value: unknown, options: RedactOptions = {}): unknown {
  const keys = options.keys ?? DEFAULT_REDACT_KEYS;
  const secrets = (options.secrets ?? []).filter((s): s is string => typeof s === 'string' && s.length >= 8);
  const max = options.maxStringLength ?? 256;
  const seen = new WeakSet<object>();
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return scrubString(v, secrets, max);
    if (typeof v === 'bigint') return v.toString();
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
        keys.lastIndex = 0;
        obj[k] = keys.test(k) ? REDACTED : walk(item, depth + 1);
      }
      out = obj;
    }
    seen.delete(v);
    return out;
  };
  return walk(value, 0);
}

/**
 * The JSON text recorded as `gen_ai.tool.call.arguments`: the redacted arguments, serialised, and cut
 * at `maxLength` characters (default 4096) with a trailing `…`.
 */
export function redactArguments(
  args: unknown,
  options: RedactOptions & { maxLength?: number | undefined } = {},
): string {
  let text: string;
  try {
    text = JSON.stringify(redactValue(args, options)) ?? 'null';
  } catch {
    text = '"[UNSERIALISABLE]"';
  }
  const max = options.maxLength ?? 4096;
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
