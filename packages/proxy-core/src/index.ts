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
export { mapResponseMessages } from './transform.js';
export type { MapMessagesOptions } from './transform.js';
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
