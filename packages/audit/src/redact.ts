/**
 * Redaction of audit payloads. The rule set is proxy-core's `redactValue` (shared with telemetry):
 * key-based (the configured pattern) plus a value scan that removes anything shaped like a JWT, any
 * `Bearer <credential>` and every occurrence of the request's bearer token, so no access token ever
 * lands in an audit event, not even inside tool arguments.
 */
import type { RedactOptions } from '@bastion-mcp/proxy-core';
import { bearerTokenOf, redactValue } from '@bastion-mcp/proxy-core';

export { DEFAULT_REDACT_KEYS, REDACTED } from '@bastion-mcp/proxy-core';

export interface ScrubOptions {
  /** Keys whose values are replaced. `undefined` means: value scan only. */
  keys?: RegExp | undefined;
  /** Secrets (the bearer token of the request) whose every occurrence is replaced. */
  secrets?: readonly string[] | undefined;
}

/**
 * `value` with redaction applied; the input is never mutated, and parts in which nothing was redacted
 * are shared with it (copy-on-write). Cycles and nesting deeper than 64 levels become markers.
 */
export function scrub(value: unknown, options: ScrubOptions = {}): unknown {
  return redactValue(value, { keys: options.keys ?? null, secrets: options.secrets, maxDepth: 64 });
}

/**
 * The value scan of `scrub` (no key rule) prepared once for many values, e.g. every field of one
 * event: `scan(v)` is `scrub(v, { secrets })`, objects nested deeper than `maxDepth` become markers.
 */
export function valueScan(secrets: readonly string[] | undefined, maxDepth = 64): <T>(value: T) => T {
  const options: RedactOptions = { keys: null, secrets, maxDepth };
  return <T>(value: T): T => redactValue(value, options) as T;
}

/** The bearer credential of an `Authorization` header value, if any (used only to redact it). */
export const bearerOf = bearerTokenOf;
