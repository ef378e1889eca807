/**
 * The 2026-07-28 (stateless) Streamable HTTP wire as the stdio bridge speaks it for a stdio client:
 * which stdio messages belong to that era, and the per-request headers mirrored from the body
 * (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`), with the `=?base64?…?=` sentinel for values a
 * header cannot carry as they are (SEP-2243).
 */
import { encodeMcpHeaderValue } from '@bastion-mcp/proxy-core';

export const META_PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion';

/**
 * Revisions of the session era (`initialize` handshake, `Mcp-Session-Id`). A stdio message whose
 * `_meta` names any other version is a modern (stateless) request.
 */
export const LEGACY_PROTOCOL_VERSIONS: ReadonlySet<string> = new Set([
  '2024-11-05',
  '2025-03-26',
  '2025-06-18',
  '2025-11-25',
]);

/** Methods whose `Mcp-Name` header mirrors `params.name` or `params.uri`. */
const NAME_PARAM: Readonly<Record<string, 'name' | 'uri'>> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};

type Params = Record<string, unknown>;

const isObject = (v: unknown): v is Params => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `params` of a JSON-RPC message when it is an object. */
export function paramsOf(message: unknown): Params | undefined {
  return isObject(message) && isObject(message.params) ? message.params : undefined;
}

/**
 * The protocol version a stdio message names in `params._meta["io.modelcontextprotocol/protocolVersion"]`
 * when that version is not a session-era one; `undefined` for legacy messages (and for responses,
 * which modern clients never send).
 */
export function modernVersionOf(message: unknown): string | undefined {
  if (!isObject(message) || typeof message.method !== 'string') return undefined;
  const meta = paramsOf(message)?._meta;
  const version = isObject(meta) ? meta[META_PROTOCOL_VERSION] : undefined;
  if (typeof version !== 'string' || version === '' || LEGACY_PROTOCOL_VERSIONS.has(version))
    return undefined;
  return version;
}

/**
 * The standard headers of one modern POST: `MCP-Protocol-Version`, `Mcp-Method`, and `Mcp-Name` for
 * `tools/call`, `prompts/get` and `resources/read` when the body carries a string name/uri.
 */
export function standardHeaders(message: { method: string; params?: unknown }, version: string) {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': version,
    'mcp-method': message.method,
  };
  const field = NAME_PARAM[message.method];
  const value = field === undefined ? undefined : paramsOf(message)?.[field];
  if (typeof value === 'string') headers['mcp-name'] = encodeMcpHeaderValue(value);
  return headers;
}
