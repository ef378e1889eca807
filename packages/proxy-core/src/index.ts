export { Exchange, silentLogger } from './exchange.js';
export type { ExchangeLogger, ExchangeNotes, Identity, InboundRequest, RouteKind } from './exchange.js';
export { composeChain } from './middleware.js';
export type { Middleware, Next, ReadinessStatus, Route, Terminal } from './middleware.js';
export { contentTypeOf, isJsonContentType, isSseContentType, jsonResponse } from './response.js';
export type { ProxyResponse, ResponseBody, ResponseHeaders } from './response.js';
export { idOf, isNotification, isRequest, isResponse, JsonRpcErrorCode } from './jsonrpc.js';
export type {
  JsonRpcErrorObject,
  JsonRpcFailure,
  JsonRpcId,
  JsonRpcMessage,
  JsonRpcNotification,
  JsonRpcRequest,
  JsonRpcResponse,
  JsonRpcSuccess,
} from './jsonrpc.js';
export type { SseEvent } from './sse/event.js';
export { parseSse, SseParser } from './sse/parser.js';
export { serializeSseEvent } from './sse/serialize.js';
export { mapResponseMessages, mapSseEvents, readJsonBody, sseEventsOf, toSseBody } from './transform.js';
export type { MapMessagesOptions } from './transform.js';
export { observeAnswer } from './observe/answer.js';
export type { AnswerFacts, ObserveAnswerOptions } from './observe/answer.js';
export { SseDataReader } from './observe/sse-data-reader.js';
export { errorToResponse, INTERNAL_ERROR_MESSAGE, jsonRpcErrorBody } from './edge/error-to-response.js';
export { writeResponse } from './edge/write-response.js';
export type { WriteResponseOptions } from './edge/write-response.js';
export { createForwarder, mapUpstreamError } from './forwarder/forwarder.js';
export type { Forwarder, ForwarderOptions } from './forwarder/forwarder.js';
export type { UpstreamOptions } from './forwarder/options.js';
export {
  FORWARDED_REQUEST_HEADERS,
  forwardableRequestHeaders,
  HOP_BY_HOP,
  relayableResponseHeaders,
} from './forwarder/headers.js';
export { mapEndpointUrl, mergeQuery, upstreamMessageUrl } from './forwarder/url.js';
export { createProxyHandler } from './server/handler.js';
export type { CloseOptions, ProxyHandler, ReadinessReport } from './server/handler.js';
export { startProxyServer } from './server/start.js';
export type { ProxyServer } from './server/start.js';
export { DEFAULT_MAX_BODY_BYTES } from './server/options.js';
export type {
  ProxyHandlerOptions,
  ProxyLimits,
  ProxyServerOptions,
  ProxyServerTimeouts,
} from './server/options.js';
export { BastionError, ProxyCoreErrorCode, ProxyHttpError } from './errors.js';
export { channels, publishCacheLookup, traceIdpCall } from './diagnostics.js';
export type {
  AuditDroppedMessage,
  CacheLookupMessage,
  CacheName,
  IdpCallKind,
  IdpFinishMessage,
  IdpStartMessage,
  SseStreamMessage,
  UpstreamFinishMessage,
  UpstreamStartMessage,
} from './diagnostics.js';
export { decodeMcpHeaderValue, encodeMcpHeaderValue, mcpHeaderNeedsBase64 } from './mcp-header-value.js';
export { bearerTokenOf, DEFAULT_REDACT_KEYS, REDACTED, redactValue } from './redact.js';
export type { RedactOptions } from './redact.js';
