/**
 * MCP 2026-07-28 mirrored header values (`Mcp-Name`, `Mcp-Param-*`): a value that cannot travel as
 * a plain HTTP header value is sent as `=?base64?<base64 of its UTF-8>?=`. One codec for every
 * layer that writes or compares these headers (stdio bridge, tool renaming, authz header checks).
 */

const SENTINEL_LIKE = /^=\?base64\?.*\?=$/s;
const SENTINEL = /^=\?base64\?([^?]*)\?=$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Whether `value` must travel base64-encoded: a character outside printable ASCII (controls, tab,
 * non-ASCII), leading or trailing whitespace (HTTP strips it), or a literal that looks like the
 * sentinel itself.
 */
export function mcpHeaderNeedsBase64(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return true;
  }
  return value !== value.trim() || SENTINEL_LIKE.test(value);
}

/** The header value for `value`: itself, or `=?base64?<base64 of its UTF-8>?=`. */
export function encodeMcpHeaderValue(value: string): string {
  return mcpHeaderNeedsBase64(value) ? `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=` : value;
}

/** The value a header carries; `undefined` when it uses the sentinel with malformed base64. */
export function decodeMcpHeaderValue(header: string): string | undefined {
  const m = SENTINEL.exec(header);
  if (!m) return header;
  const b64 = m[1] ?? '';
  if (!BASE64.test(b64) || b64.length % 4 !== 0) return undefined;
  return Buffer.from(b64, 'base64').toString('utf8');
}
