/**
 * The edge mapper: the ONE place where errors become wire answers (PRODUCT.md §2.2).
 */
import { ProxyCoreErrorCode, ProxyHttpError } from '../errors.js';
import type { Exchange } from '../exchange.js';
import { idOf, type JsonRpcId, JsonRpcErrorCode } from '../jsonrpc.js';
import { jsonResponse, type ProxyResponse } from '../response.js';

/** Generic message for errors the proxy did not anticipate; their own message is never sent. */
export const INTERNAL_ERROR_MESSAGE = 'Internal error';

/** A JSON-RPC error body (`{jsonrpc, id, error:{code, message}}`). */
export function jsonRpcErrorBody(id: JsonRpcId, code: number, message: string, data?: unknown) {
  return {
    jsonrpc: '2.0' as const,
    id,
    error: data === undefined ? { code, message } : { code, message, data },
  };
}

/**
 * Turn any thrown value into a response.
 * - `ProxyHttpError` with `oauthError`: its status, `{error, error_description}` and its headers
 *   (e.g. `WWW-Authenticate`).
 * - other `ProxyHttpError`: its status, a JSON-RPC error echoing the request id with `rpcCode` and
 *   `publicMessage`, and its headers.
 * - anything else: 500, `-32603` `Internal error` (the error's own message is never sent).
 *
 * @param exchange the exchange the error belongs to; its JSON-RPC id is echoed. May be `undefined`
 *   for errors raised before the request was parsed (`id` is then `null`, or `id` when given).
 */
export function errorToResponse(
  err: unknown,
  exchange?: Exchange | undefined,
  id?: JsonRpcId,
): ProxyResponse {
  const rpcId = id ?? idOf(exchange?.rpc);
  if (err instanceof ProxyHttpError || isProxyHttpErrorLike(err)) {
    const e = err as ProxyHttpError;
    const headers: Record<string, string> = { 'cache-control': 'no-store', ...e.headers };
    if (e.oauthError) {
      const body: Record<string, string> = { error: e.oauthError.error };
      if (e.oauthError.error_description !== undefined)
        body.error_description = e.oauthError.error_description;
      return jsonResponse(e.status, body, headers);
    }
    return jsonResponse(e.status, jsonRpcErrorBody(rpcId, e.rpcCode, e.publicMessage), headers);
  }
  return jsonResponse(500, jsonRpcErrorBody(rpcId, JsonRpcErrorCode.InternalError, INTERNAL_ERROR_MESSAGE), {
    'cache-control': 'no-store',
  });
}

/** A ProxyHttpError from another copy of the package (branded BastionError with the same fields). */
function isProxyHttpErrorLike(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as Partial<ProxyHttpError>;
  return (
    ProxyHttpError.isInstance(err) &&
    typeof e.status === 'number' &&
    typeof e.rpcCode === 'number' &&
    typeof e.publicMessage === 'string'
  );
}

/** Convenience constructor used by the guards and the forwarder. */
export function httpError(
  status: number,
  rpcCode: number,
  code: ProxyCoreErrorCode,
  publicMessage: string,
  extra?: { cause?: unknown; headers?: Record<string, string>; message?: string },
): ProxyHttpError {
  return new ProxyHttpError({
    status,
    rpcCode,
    code,
    publicMessage,
    headers: extra?.headers,
    cause: extra?.cause,
    message: extra?.message,
  });
}

export { ProxyCoreErrorCode };
