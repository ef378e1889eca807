/**
 * Redaction of tool arguments before they may be recorded on a span. The rule set is proxy-core's
 * `redactValue` — the same one the audit package applies to payloads — with strings cut at 256
 * characters by default, so what audit hides telemetry hides too.
 */
import {
  type RedactOptions as CoreRedactOptions,
  redactValue as coreRedactValue,
} from '@bastion-mcp/proxy-core';

export { DEFAULT_REDACT_KEYS, REDACTED } from '@bastion-mcp/proxy-core';

export interface RedactOptions {
  /** Keys whose values are replaced. Default: proxy-core's `DEFAULT_REDACT_KEYS`. */
  keys?: RegExp | undefined;
  /** Secrets (the request's bearer token) whose every occurrence is replaced. Shorter than 8 chars: ignored. */
  secrets?: readonly (string | undefined)[] | undefined;
  /** Longest string value kept, in characters; longer ones are cut and end with `…`. Default 256. */
  maxStringLength?: number | undefined;
}

/**
 * `value` with redaction applied (cycles and nesting deeper than 32 levels become markers). Copy on
 * write: unchanged parts are shared with `value`, which is never mutated.
 */
export function redactValue(value: unknown, options: RedactOptions = {}): unknown {
  const core: CoreRedactOptions = {
    keys: options.keys,
    secrets: options.secrets,
    maxStringLength: options.maxStringLength ?? 256,
    maxDepth: 32,
  };
  return coreRedactValue(value, core);
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
