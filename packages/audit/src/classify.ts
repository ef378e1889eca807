/** Map a request to its audit event type. */
import type { Exchange, JsonRpcMessage } from '@bastion-mcp/proxy-core';
import { isNotification, isRequest, isResponse } from '@bastion-mcp/proxy-core';
import type { AuditEventType } from './event.js';

const METHOD_TYPES: Readonly<Record<string, AuditEventType>> = {
  initialize: 'mcp_initialize',
  'tools/call': 'mcp_tool_call',
  'tools/list': 'mcp_list_tools',
  'prompts/list': 'mcp_list_prompts',
  'prompts/get': 'mcp_prompt_get',
  'resources/list': 'mcp_list_resources',
  'resources/templates/list': 'mcp_list_resource_templates',
  'resources/read': 'mcp_resource_read',
  ping: 'mcp_ping',
};

/** The event type of a JSON-RPC message (requests by method, then notifications and client answers). */
export function typeOfMessage(rpc: JsonRpcMessage): AuditEventType {
  if (isRequest(rpc)) return METHOD_TYPES[rpc.method] ?? 'mcp_request';
  if (isNotification(rpc)) return 'mcp_notification';
  if (isResponse(rpc)) return 'mcp_response';
  return 'http_request';
}

function acceptsEventStream(exchange: Exchange): boolean {
  const accept = exchange.request.headers.accept;
  return typeof accept === 'string' && accept.toLowerCase().includes('text/event-stream');
}

/**
 * The event type of an exchange. JSON-RPC bodies are classified by message (the body is parsed by the
 * request guards before audit runs, so even a 401 `tools/call` is an `mcp_tool_call`); a GET stream is
 * `sse_connection`; a DELETE is `session_delete`; anything else is `http_request`.
 */
export function eventTypeOf(exchange: Exchange): AuditEventType {
  const rpc = exchange.rpc;
  if (rpc !== undefined) return typeOfMessage(rpc);
  const method = exchange.request.method.toUpperCase();
  if (method === 'GET' && (exchange.route === 'sse-stream' || acceptsEventStream(exchange)))
    return 'sse_connection';
  if (method === 'DELETE') return 'session_delete';
  return 'http_request';
}
