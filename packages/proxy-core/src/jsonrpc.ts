/** JSON-RPC 2.0 message shapes as MCP uses them. Payloads from peers are typed loosely on purpose. */

export type JsonRpcId = string | number | null;

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  id: string | number;
  method: string;
  params?: Record<string, unknown> | undefined;
}

export interface JsonRpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: Record<string, unknown> | undefined;
}

export interface JsonRpcSuccess {
  jsonrpc: '2.0';
  id: JsonRpcId;
  result: Record<string, unknown>;
}

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export interface JsonRpcFailure {
  jsonrpc: '2.0';
  id: JsonRpcId;
  error: JsonRpcErrorObject;
}

export type JsonRpcResponse = JsonRpcSuccess | JsonRpcFailure;
export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

/** Standard JSON-RPC error codes used by the proxy. */
export const JsonRpcErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
} as const;

export function isRequest(m: JsonRpcMessage | undefined): m is JsonRpcRequest {
  return m !== undefined && 'method' in m && 'id' in m && m.id !== undefined && m.id !== null;
}

export function isNotification(m: JsonRpcMessage | undefined): m is JsonRpcNotification {
  return m !== undefined && 'method' in m && !('id' in m && m.id !== undefined);
}

export function isResponse(m: JsonRpcMessage | undefined): m is JsonRpcResponse {
  return m !== undefined && !('method' in m) && ('result' in m || 'error' in m);
}

/** The request id to echo in an error answer (`null` when there is none). */
export function idOf(m: JsonRpcMessage | undefined): JsonRpcId {
  if (m && 'id' in m && (typeof m.id === 'string' || typeof m.id === 'number')) return m.id;
  return null;
}
