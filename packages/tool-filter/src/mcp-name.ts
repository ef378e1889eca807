/**
 * The 2026-07-28 `Mcp-Name` header: the tool/prompt name or resource URI of the request, with non-ASCII
 * values sent as `=?base64?<base64 of UTF-8>?=`.
 */

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export function encodeMcpName(value: string): string {
  if (PRINTABLE_ASCII.test(value) && !(value.startsWith('=?base64?') && value.endsWith('?='))) return value;
  return `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

export function decodeMcpName(header: string): string {
  const m = /^=\?base64\?([A-Za-z0-9+/=]*)\?=$/.exec(header.trim());
  return m?.[1] !== undefined ? Buffer.from(m[1], 'base64').toString('utf8') : header.trim();
}
