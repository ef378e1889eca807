/**
 * Which headers cross the proxy, in both directions.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** RFC 9110 §7.6.1 connection-specific headers, plus the legacy proxy ones. Never forwarded either way. */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Inbound request headers forwarded upstream (an allow-list). `Mcp-Param-*` (2026-07-28) are
 * forwarded too. The client's `authorization` and `cookie` are never forwarded.
 */
export const FORWARDED_REQUEST_HEADERS = new Set([
  'accept',
  'accept-language',
  'content-type',
  'user-agent',
  'mcp-session-id',
  'mcp-protocol-version',
  'mcp-method',
  'mcp-name',
  'last-event-id',
  'traceparent',
  'tracestate',
  'baggage',
  'x-request-id',
]);

const MCP_PARAM_PREFIX = 'mcp-param-';

/** Response headers never relayed to the client (besides hop-by-hop ones). */
export const DROPPED_RESPONSE_HEADERS = new Set(['set-cookie', 'set-cookie2', 'alt-svc']);

/** Header names listed in a `Connection` header value (they are hop-by-hop for this message). */
export function connectionTokens(value: string | string[] | undefined): Set<string> {
  const out = new Set<string>();
  if (value === undefined) return out;
  for (const v of Array.isArray(value) ? value : [value]) {
    for (const token of v.split(',')) {
      const t = token.trim().toLowerCase();
      if (t) out.add(t);
    }
  }
  return out;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

/**
 * The forwardable subset of the inbound headers (what `exchange.upstreamHeaders` starts with).
 * Headers named in the inbound `Connection` header are dropped even when allow-listed.
 */
export function forwardableRequestHeaders(inbound: IncomingHttpHeaders): Record<string, string> {
  const drop = connectionTokens(inbound.connection);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(inbound)) {
    if (value === undefined || drop.has(name)) continue;
    if (FORWARDED_REQUEST_HEADERS.has(name) || name.startsWith(MCP_PARAM_PREFIX)) {
      const v = first(value);
      if (v !== undefined) out[name] = v;
    }
  }
  return out;
}

/** Headers a middleware may never set on the upstream request (the forwarder owns them). */
export const FORWARDER_OWNED = new Set(['host', 'content-length', 'expect', ...HOP_BY_HOP]);

/**
 * Filter upstream response headers for the client: hop-by-hop headers, anything named in the upstream's
 * `Connection` header and cookies are dropped.
 */
export function relayableResponseHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const drop = connectionTokens(headers.connection);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    const n = name.toLowerCase();
    if (value === undefined || HOP_BY_HOP.has(n) || drop.has(n) || DROPPED_RESPONSE_HEADERS.has(n)) continue;
    out[n] = value;
  }
  return out;
}

/** Append a value to a comma-separated header. */
export function appendHeader(existing: string | string[] | undefined, value: string): string {
  const prev = first(existing);
  return prev ? `${prev}, ${value}` : value;
}
