/**
 * The tool-filter middleware. Request side: a `tools/call` with a user-facing name is rewritten to the
 * real name (body and `Mcp-Name` header) before the inner layers (authz sees the real name); a filtered,
 * hidden or unknown name is answered `-32602 "tool not found"` without contacting the upstream.
 * Response side: `tools/list` results (JSON or SSE) are filtered and renamed, every other field kept.
 */
import type {
  Exchange,
  JsonRpcMessage,
  JsonRpcRequest,
  Middleware,
  Next,
  ProxyResponse,
} from '@bastion-mcp/proxy-core';
import {
  decodeMcpHeaderValue,
  encodeMcpHeaderValue,
  isRequest,
  isResponse,
  JsonRpcErrorCode,
  jsonResponse,
  mapResponseMessages,
} from '@bastion-mcp/proxy-core';
import type { ToolFilterOptions, ToolRules } from './config.js';
import { compileToolRules, resolveCall } from './config.js';
import { ToolFilterErrorCode } from './errors.js';
import { rewriteToolsList } from './list.js';

export interface ToolFilterMiddleware extends Middleware {
  readonly name: 'tool-filter';
}

/** JSON-RPC code for an `Mcp-*` header that disagrees with the body (MCP 2026-07-28). */
const HEADER_MISMATCH = -32020;

function rpcError(
  exchange: Exchange,
  rpc: JsonRpcRequest,
  status: number,
  code: number,
  message: string,
  reason: string,
) {
  exchange.notes.rejectedBy = 'tool-filter';
  exchange.notes['tool-filter'] = { code: reason };
  // Always JSON, whatever the client accepts: a one-message answer needs no stream.
  return jsonResponse(status, { jsonrpc: '2.0', id: rpc.id, error: { code, message } });
}

function handleCall(
  rules: ToolRules,
  exchange: Exchange,
  rpc: JsonRpcRequest,
  next: Next,
): Promise<ProxyResponse> {
  const params = rpc.params;
  const name = params?.name;
  if (typeof name !== 'string' || name.length === 0) {
    return Promise.resolve(
      rpcError(
        exchange,
        rpc,
        200,
        JsonRpcErrorCode.InvalidParams,
        'tool name is required',
        ToolFilterErrorCode.InvalidCall,
      ),
    );
  }
  exchange.notes.clientToolName = name;
  const real = resolveCall(rules, name);
  if (real === undefined) {
    exchange.log.debug({ requestId: exchange.requestId, tool: name }, 'tool-filter: tool not found');
    return Promise.resolve(
      rpcError(
        exchange,
        rpc,
        200,
        JsonRpcErrorCode.InvalidParams,
        'tool not found',
        ToolFilterErrorCode.ToolNotFound,
      ),
    );
  }
  if (real !== name) {
    const header = exchange.upstreamHeaders['mcp-name'];
    if (header !== undefined) {
      // Rewriting the header must not launder a header/body disagreement past the layers inside.
      if (decodeMcpHeaderValue(header) !== name) {
        return Promise.resolve(
          rpcError(
            exchange,
            rpc,
            400,
            HEADER_MISMATCH,
            'Mcp-Name header does not match the request body',
            ToolFilterErrorCode.HeaderMismatch,
          ),
        );
      }
      exchange.upstreamHeaders['mcp-name'] = encodeMcpHeaderValue(real);
    }
    exchange.replaceRpc({ ...rpc, params: { ...params, name: real } });
  }
  return next();
}

async function handleList(
  rules: ToolRules,
  exchange: Exchange,
  rpc: JsonRpcRequest,
  next: Next,
): Promise<ProxyResponse> {
  const res = await next();
  if (res.status < 200 || res.status >= 300) return res;
  return mapResponseMessages(res, (message: JsonRpcMessage) => {
    if (!isResponse(message) || message.id !== rpc.id || !('result' in message)) return message;
    const result = message.result;
    if (typeof result !== 'object' || result === null) return message;
    const out = rewriteToolsList(rules, result);
    if (out.malformed > 0 || out.shadowed.length > 0) {
      exchange.log.warn(
        { requestId: exchange.requestId, malformed: out.malformed, shadowed: out.shadowed },
        'tool-filter: upstream tools dropped from tools/list',
      );
    }
    return { ...message, result: out.result };
  });
}

/**
 * A GET stream (the streamable-HTTP server stream, a `Last-Event-ID` resumption, or the legacy
 * `/sse` stream that carries every answer) is not tied to one request id: every answer whose result
 * carries a `tools` array is filtered there, so a hidden tool never leaks through a resumed stream.
 */
async function handleStream(rules: ToolRules, exchange: Exchange, next: Next): Promise<ProxyResponse> {
  const res = await next();
  if (res.status < 200 || res.status >= 300) return res;
  return mapResponseMessages(res, (message: JsonRpcMessage) => {
    if (!isResponse(message) || !('result' in message)) return message;
    const result = message.result;
    if (typeof result !== 'object' || result === null || !Array.isArray(result.tools)) return message;
    const out = rewriteToolsList(rules, result);
    if (out.malformed > 0 || out.shadowed.length > 0) {
      exchange.log.warn(
        { requestId: exchange.requestId, malformed: out.malformed, shadowed: out.shadowed },
        'tool-filter: upstream tools dropped from tools/list',
      );
    }
    return { ...message, result: out.result };
  });
}

/**
 * Create the tool-filter middleware. Throws `TypeError` on an invalid configuration (including two
 * tools that would end up with one name).
 *
 * @example
 * ```ts
 * const toolFilter = createToolFilterMiddleware({
 *   filter: ['search', 'get_weather'],
 *   overrides: { web_search: { name: 'search', description: 'Search the web' } },
 * });
 * ```
 */
export function createToolFilterMiddleware(options: ToolFilterOptions): ToolFilterMiddleware {
  const rules = compileToolRules(options);
  return {
    name: 'tool-filter',
    handle(exchange: Exchange, next: Next): Promise<ProxyResponse> {
      const rpc = exchange.rpc;
      if (rpc === undefined && exchange.request.method.toUpperCase() === 'GET')
        return handleStream(rules, exchange, next);
      if (!isRequest(rpc)) return next();
      if (rpc.method === 'tools/call') return handleCall(rules, exchange, rpc, next);
      if (rpc.method === 'tools/list') return handleList(rules, exchange, rpc, next);
      return next();
    },
  };
}
