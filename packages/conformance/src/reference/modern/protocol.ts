/**
 * Wire rules of the stateless MCP revision 2026-07-28 as the reference upstream enforces them:
 * per-request `_meta`, `MCP-Protocol-Version` / `Mcp-Method` / `Mcp-Name` / `Mcp-Param-*` headers
 * mirrored from the body, and the revision's error codes with their HTTP statuses.
 */
import type { IncomingHttpHeaders } from 'node:http';

export const MODERN_PROTOCOL_VERSION = '2026-07-28';
export const SUPPORTED_MODERN_VERSIONS: readonly string[] = [MODERN_PROTOCOL_VERSION];

export const META_PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion';
export const META_CLIENT_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';
export const META_CLIENT_INFO = 'io.modelcontextprotocol/clientInfo';
export const META_LOG_LEVEL = 'io.modelcontextprotocol/logLevel';
export const META_SERVER_INFO = 'io.modelcontextprotocol/serverInfo';
export const META_SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';

/** JSON-RPC error codes used by the revision (final numbering, not the RC drafts' -3200x). */
export const RpcCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  HeaderMismatch: -32020,
  MissingRequiredClientCapability: -32021,
  UnsupportedProtocolVersion: -32022,
} as const;

/** A JSON-RPC error answer with the HTTP status it travels with. */
export class RpcFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcFailure';
  }
}

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export type ClientCapabilities = JsonObject;

/** What every modern request carries in `params._meta`, validated. */
export interface RequestContext {
  protocolVersion: string;
  capabilities: ClientCapabilities;
  logLevel: string | undefined;
  progressToken: string | number | undefined;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  const s = Array.isArray(v) ? v.join(',') : v;
  // RFC 9110 §5.5: optional whitespace around a field value is not part of it.
  return s === undefined ? undefined : s.trim();
}

const B64_SENTINEL = /^=\?base64\?(.*)\?=$/s;
const B64_ALPHABET = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decode a mirrored header value: `=?base64?<b64>?=` carries non-ASCII values; anything else is
 * literal. Returns `undefined` for a sentinel whose payload is not canonical padded base64.
 */
export function decodeHeaderValue(value: string): string | undefined {
  const m = B64_SENTINEL.exec(value);
  if (!m) return value;
  const b64 = m[1] ?? '';
  if (!B64_ALPHABET.test(b64)) return undefined;
  return Buffer.from(b64, 'base64').toString('utf8');
}

const mismatch = (message: string) => new RpcFailure(400, RpcCode.HeaderMismatch, message);

/** The value `Mcp-Name` mirrors for a method, or `undefined` when the method has none. */
export function nameParamOf(
  method: string,
  params: JsonObject,
): { present: boolean; value: unknown } | undefined {
  if (method === 'tools/call' || method === 'prompts/get')
    return { present: 'name' in params, value: params.name };
  if (method === 'resources/read') return { present: 'uri' in params, value: params.uri };
  return undefined;
}

/**
 * Validate one modern request's headers and `_meta` against its body, in the order the revision's
 * conformance checks distinguish: `Mcp-Method` (-32020), required `_meta` keys (-32602),
 * `MCP-Protocol-Version` == `_meta` version (-32020), supported version (-32022), `Mcp-Name` (-32020).
 */
export function validateModernRequest(
  headers: IncomingHttpHeaders,
  method: string,
  params: JsonObject,
): RequestContext {
  const mcpMethod = header(headers, 'mcp-method');
  if (mcpMethod === undefined) throw mismatch('Mcp-Method header is required');
  if (mcpMethod !== method) throw mismatch('Mcp-Method header does not match the request method');

  const meta = params._meta;
  if (!isObject(meta)) throw new RpcFailure(400, RpcCode.InvalidParams, 'params._meta is required');
  const version = meta[META_PROTOCOL_VERSION];
  if (typeof version !== 'string' || version === '') {
    throw new RpcFailure(400, RpcCode.InvalidParams, `_meta["${META_PROTOCOL_VERSION}"] is required`);
  }
  const capabilities = meta[META_CLIENT_CAPABILITIES];
  if (!isObject(capabilities)) {
    throw new RpcFailure(
      400,
      RpcCode.InvalidParams,
      `_meta["${META_CLIENT_CAPABILITIES}"] must be an object`,
    );
  }
  const headerVersion = header(headers, 'mcp-protocol-version');
  if (headerVersion !== version) {
    throw mismatch('MCP-Protocol-Version header does not match _meta protocolVersion');
  }
  if (!SUPPORTED_MODERN_VERSIONS.includes(version)) {
    throw new RpcFailure(400, RpcCode.UnsupportedProtocolVersion, 'Unsupported protocol version', {
      supported: [...SUPPORTED_MODERN_VERSIONS],
      requested: version,
    });
  }

  const named = nameParamOf(method, params);
  const mcpName = header(headers, 'mcp-name');
  if (named?.present) {
    if (mcpName === undefined) throw mismatch('Mcp-Name header is required');
    const decoded = decodeHeaderValue(mcpName);
    if (decoded === undefined || decoded !== named.value) {
      throw mismatch('Mcp-Name header does not match the request body');
    }
  } else if (mcpName !== undefined) {
    throw mismatch('Mcp-Name header sent for a request without a name');
  }

  const logLevel = meta[META_LOG_LEVEL];
  const progressToken = meta.progressToken;
  return {
    protocolVersion: version,
    capabilities,
    logLevel: typeof logLevel === 'string' ? logLevel : undefined,
    progressToken:
      typeof progressToken === 'string' || typeof progressToken === 'number' ? progressToken : undefined,
  };
}

/**
 * Check the `Mcp-Param-{X}` headers of a `tools/call` against the arguments whose input-schema
 * property carries `x-mcp-header: X`: a present argument needs its header, decoded equal.
 */
export function validateParamHeaders(
  headers: IncomingHttpHeaders,
  inputSchema: JsonObject,
  args: JsonObject,
): void {
  const props = isObject(inputSchema.properties) ? inputSchema.properties : {};
  for (const [prop, schema] of Object.entries(props)) {
    if (!isObject(schema) || typeof schema['x-mcp-header'] !== 'string') continue;
    if (!(prop in args)) continue;
    const raw = header(headers, `mcp-param-${schema['x-mcp-header'].toLowerCase()}`);
    if (raw === undefined) throw mismatch(`Mcp-Param-${schema['x-mcp-header']} header is required`);
    const decoded = decodeHeaderValue(raw);
    if (decoded === undefined) throw mismatch(`Mcp-Param-${schema['x-mcp-header']} is not valid base64`);
    if (decoded !== String(args[prop])) {
      throw mismatch(`Mcp-Param-${schema['x-mcp-header']} header does not match the argument`);
    }
  }
}
