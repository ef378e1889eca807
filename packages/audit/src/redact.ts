/**
 * Redaction of audit payloads. The rule set is proxy-core's `redactValue` (shared with telemetry):
 * key-based (the configured pattern) plus a value scan that removes anything shaped like a JWT, any
 * `Bearer <credential>` and every occurrence of the request's bearer token, so no access token ever
 * lands in an audit event, not even inside tool arguments.
 */
import { bearerTokenOf, redactValue } from '@bastion-mcp/proxy-core';

export { DEFAULT_REDACT_KEYS, REDACTED } from '@bastion-mcp/proxy-core';

export interface ScrubOptions {
  /** Keys whose values are replaced. `undefined` means: value scan only. */
  keys?: RegExp | undefined;
  /** Secrets (the bearer token of the request) whose every occurrence is replaced. */
  secrets?: readonly string[] | undefined;
}

/** Deep copy of `value` with redaction applied. Cycles and nesting deeper than 64 levels become markers. */
export function scrub(value: unknown, options: ScrubOptions = {}): unknown {
  return redactValue(value, { keys: options.keys ?? null, secrets: options.secrets, maxDepth: 64 });
}

/** The bearer credential of an `Authorization` header value, if any (used only to redact it). */
export const bearerOf = bearerTokenOf;
