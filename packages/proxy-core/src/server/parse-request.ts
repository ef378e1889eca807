/** Request guards on the body: parse once, reject batches, malformed JSON and non-JSON-RPC. */
import { httpError } from '../edge/error-to-response.js';
import { ProxyCoreErrorCode } from '../errors.js';
import { type JsonRpcId, type JsonRpcMessage, JsonRpcErrorCode } from '../jsonrpc.js';

export class RequestRejected extends Error {
  constructor(
    readonly error: ReturnType<typeof httpError>,
    readonly id: JsonRpcId,
  ) {
    super(error.message);
  }
}

function validId(id: unknown): id is string | number {
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));
}

/**
 * Parse a POST body as one JSON-RPC 2.0 message.
 * @throws RequestRejected 400 `-32700` (malformed JSON), 400 `-32600` (batch, or not JSON-RPC).
 */
export function parseJsonRpc(body: Buffer): JsonRpcMessage {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new RequestRejected(
      httpError(400, JsonRpcErrorCode.ParseError, ProxyCoreErrorCode.ParseError, 'Parse error', {
        cause: err,
      }),
      null,
    );
  }
  if (Array.isArray(value)) {
    throw new RequestRejected(
      httpError(
        400,
        JsonRpcErrorCode.InvalidRequest,
        ProxyCoreErrorCode.BatchRejected,
        'Batch requests are not supported',
      ),
      null,
    );
  }
  const invalid = (id: JsonRpcId) =>
    new RequestRejected(
      httpError(400, JsonRpcErrorCode.InvalidRequest, ProxyCoreErrorCode.InvalidRequest, 'Invalid Request'),
      id,
    );
  if (typeof value !== 'object' || value === null) throw invalid(null);
  const m = value as Record<string, unknown>;
  const id: JsonRpcId = validId(m.id) ? m.id : null;
  if (m.jsonrpc !== '2.0') throw invalid(id);
  if ('method' in m) {
    if (typeof m.method !== 'string' || m.method === '') throw invalid(id);
    if ('id' in m && m.id !== undefined && !validId(m.id)) throw invalid(null);
    if ('params' in m && m.params !== undefined && (typeof m.params !== 'object' || m.params === null)) {
      throw invalid(id);
    }
    return value as JsonRpcMessage;
  }
  const hasResult = 'result' in m;
  const hasError = 'error' in m;
  if (hasResult === hasError) throw invalid(id);
  if (!('id' in m) || (m.id !== null && !validId(m.id))) throw invalid(null);
  return value as JsonRpcMessage;
}
