/**
 * Upstream error answers whose body is not JSON (an HTML 502 page of a load balancer, a `text/plain`
 * stack trace, an empty 404 …) become JSON-RPC errors, so every error body the client sees is JSON
 * (PRODUCT.md §2.2). JSON and SSE bodies, and authentication challenges, are relayed unchanged.
 */
import type { Readable } from 'node:stream';
import { jsonRpcErrorBody } from '../edge/error-to-response.js';
import type { Exchange } from '../exchange.js';
import { idOf, JsonRpcErrorCode } from '../jsonrpc.js';
import { isJsonContentType, isSseContentType, jsonResponse, type ProxyResponse } from '../response.js';

/** Public message of the JSON-RPC error replacing a non-JSON upstream error body. */
export const UPSTREAM_ERROR_MESSAGE = 'Upstream error';

/** At most this much of a replaced body is read (so the connection can be reused), then it is cut. */
const DISCARD_LIMIT_BYTES = 64 * 1024;

/** Headers describing the replaced body (or its caching): they do not apply to the JSON answer. */
function describesBody(name: string): boolean {
  return name.startsWith('content-') || name === 'etag' || name === 'last-modified';
}

/**
 * Whether the upstream answer must be replaced: status ≥ 400, a body that is neither JSON nor SSE,
 * and not an authentication challenge (401, or 403 with `WWW-Authenticate`), which the client needs
 * byte for byte to re-authenticate.
 */
export function needsJsonErrorBody(
  status: number,
  contentType: string,
  headers: Record<string, string | string[]>,
): boolean {
  if (status < 400) return false;
  if (status === 401) return false;
  if (status === 403 && headers['www-authenticate'] !== undefined) return false;
  return !isJsonContentType(contentType) && !isSseContentType(contentType);
}

/**
 * The JSON answer replacing a non-JSON upstream error: 5xx → 502, 4xx → the same status (a 404 for an
 * expired `Mcp-Session-Id` must stay a 404 so the client re-initialises), with a `-32603`
 * `Upstream error` JSON-RPC error echoing the request id and `data: { upstreamStatus }`. The upstream's
 * other headers (`Mcp-Session-Id`, `Retry-After`, `Allow` …) are kept. The upstream body is discarded.
 */
export function jsonErrorResponse(
  exchange: Exchange,
  status: number,
  headers: Record<string, string | string[]>,
  body: Readable & { dump?: (opts: { limit: number; signal?: AbortSignal }) => Promise<void> },
  discardTimeoutMs: number,
): ProxyResponse {
  discard(body, discardTimeoutMs);
  const kept: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (!describesBody(name)) kept[name] = value;
  kept['cache-control'] = 'no-store';
  return jsonResponse(
    status >= 500 ? 502 : status,
    jsonRpcErrorBody(idOf(exchange.rpc), JsonRpcErrorCode.InternalError, UPSTREAM_ERROR_MESSAGE, {
      upstreamStatus: status,
    }),
    kept,
  );
}

/** Read and drop the body (bounded in size and, when `timeoutMs` > 0, in time); never throws. */
function discard(
  body: Readable & { dump?: (opts: { limit: number; signal?: AbortSignal }) => Promise<void> },
  timeoutMs: number,
): void {
  if (typeof body.dump !== 'function') {
    body.destroy();
    return;
  }
  const signal = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
  void body.dump({ limit: DISCARD_LIMIT_BYTES, ...(signal ? { signal } : {}) }).catch(() => {});
}
