/**
 * An optional observer placed outermost (before audit): one log line per request through the
 * pino-compatible logger, bound to the request id. It never answers, rewrites or rejects anything.
 * The line is written when the response headers are known (streams continue after it).
 */
import {
  type ExchangeLogger,
  isRequest,
  type Middleware,
  ProxyHttpError,
  type ProxyResponse,
} from '@bastion-mcp/proxy-core';

export const ACCESS_LOG_MIDDLEWARE_NAME = 'access-log';

export function createAccessLogMiddleware(logger: ExchangeLogger): Middleware {
  if (logger === null || typeof logger?.info !== 'function') {
    throw new TypeError('"logger" must be a pino-compatible logger');
  }
  return {
    name: ACCESS_LOG_MIDDLEWARE_NAME,
    async handle(exchange, next) {
      let status: number | undefined;
      try {
        const response: ProxyResponse = await next();
        status = response.status;
        return response;
      } catch (err) {
        status = ProxyHttpError.isInstance(err) ? (err as ProxyHttpError).status : 500;
        throw err;
      } finally {
        const rpc = exchange.rpc;
        const params =
          rpc && isRequest(rpc) ? (rpc.params as Record<string, unknown> | undefined) : undefined;
        const entry: Record<string, unknown> = {
          requestId: exchange.requestId,
          method: exchange.request.method,
          path: exchange.request.path,
          status,
          durationMs: Math.round((performance.now() - exchange.startedAt) * 100) / 100,
        };
        if (rpc && 'method' in rpc) entry.rpcMethod = rpc.method;
        if (typeof params?.name === 'string') entry.tool = params.name;
        if (exchange.notes.clientToolName) entry.clientTool = exchange.notes.clientToolName;
        if (exchange.notes.rejectedBy) entry.rejectedBy = exchange.notes.rejectedBy;
        if (exchange.identity) entry.user = exchange.identity.subject;
        const level = status !== undefined && status >= 500 ? 'warn' : 'info';
        logger[level](entry, 'request');
      }
    },
  };
}
