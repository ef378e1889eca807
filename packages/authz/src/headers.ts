/**
 * MCP 2026-07-28 mirrors the method and the target name into `Mcp-Method` / `Mcp-Name` request
 * headers. Authz decides on the body, so it must make sure the headers (which an upstream or an
 * intermediary may route on) say the same thing.
 */
import { decodeMcpHeaderValue, type Exchange, type JsonRpcMessage } from '@bastion-mcp/proxy-core';
import { headerMismatchError } from './errors.js';

/** The first revision that mirrors method and name into headers. */
export const MODERN_REVISION = '2026-07-28';

const NAMED: Record<string, 'name' | 'uri'> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A header as it goes upstream (after renaming middlewares), else as received. */
export function headerOf(exchange: Exchange, name: string): string | undefined {
  if (Object.hasOwn(exchange.upstreamHeaders, name)) return exchange.upstreamHeaders[name];
  return single(exchange.request.headers[name]);
}

/** Protocol revision of the request: the `MCP-Protocol-Version` header, else `_meta`'s. */
export function protocolVersionOf(exchange: Exchange): string | undefined {
  const header = headerOf(exchange, 'mcp-protocol-version');
  if (header) return header;
  return exchange.rpc ? metaProtocolVersionOf(exchange.rpc) : undefined;
}

/** `params._meta["io.modelcontextprotocol/protocolVersion"]` of a message (2026-07-28+ requests carry it). */
export function metaProtocolVersionOf(message: JsonRpcMessage): string | undefined {
  const params = 'params' in message ? message.params : undefined;
  const meta =
    params && typeof params === 'object' ? (params._meta as Record<string, unknown> | undefined) : undefined;
  const v = meta && typeof meta === 'object' ? meta['io.modelcontextprotocol/protocolVersion'] : undefined;
  return typeof v === 'string' ? v : undefined;
}

/** Whether the revision mirrors method/name into headers (dated revisions compare as strings). */
export function isModernRevision(version: string | undefined): boolean {
  return version !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(version) && version >= MODERN_REVISION;
}

/**
 * Throw a 400 (`-32020`) when `Mcp-Method` / `Mcp-Name` disagree with the body. When the request is
 * of a revision that requires them, missing headers are rejected too. `modern` is
 * `isModernRevision(protocolVersionOf(exchange))`, for a caller that has it already.
 */
export function checkMirroredHeaders(
  exchange: Exchange,
  message: JsonRpcMessage,
  modern: boolean = isModernRevision(protocolVersionOf(exchange)),
): void {
  if (!('method' in message)) return;
  const method = headerOf(exchange, 'mcp-method');
  if (method === undefined) {
    if (modern) throw headerMismatchError('Mcp-Method', true);
  } else if (method !== message.method) {
    throw headerMismatchError('Mcp-Method', false);
  }
  const field = Object.hasOwn(NAMED, message.method) ? NAMED[message.method] : undefined;
  if (!field) return;
  const raw = headerOf(exchange, 'mcp-name');
  if (raw === undefined) {
    if (modern) throw headerMismatchError('Mcp-Name', true);
    return;
  }
  const bodyValue = message.params?.[field];
  if (decodeMcpHeaderValue(raw) !== bodyValue) throw headerMismatchError('Mcp-Name', false);
}
