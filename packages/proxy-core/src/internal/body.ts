import { ProxyCoreErrorCode, ProxyHttpError } from '../errors.js';
import { JsonRpcErrorCode } from '../jsonrpc.js';

/** Thrown by `readBody` when more than `maxBytes` arrive. */
export class BodyLimitError extends Error {
  readonly code = 'ERR_BASTION_PROXY_BODY_LIMIT';
  constructor(readonly limit: number) {
    super(`body exceeds ${limit} bytes`);
  }
}

/** Read an async byte stream fully, stopping (and destroying the source) as soon as it exceeds `maxBytes`. */
export async function readBody(
  source: AsyncIterable<Uint8Array | string>,
  maxBytes: number,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of source) {
    const buf =
      typeof chunk === 'string'
        ? Buffer.from(chunk)
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    size += buf.length;
    if (size > maxBytes) throw new BodyLimitError(maxBytes);
    chunks.push(buf);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

export function upstreamTooLarge(limit: number, cause?: unknown): ProxyHttpError {
  return new ProxyHttpError({
    status: 502,
    rpcCode: JsonRpcErrorCode.InternalError,
    publicMessage: 'Upstream response too large',
    code: ProxyCoreErrorCode.UpstreamResponseTooLarge,
    message: `upstream response exceeds ${limit} bytes`,
    cause,
  });
}

const noop = () => {};

/** Destroy a stream nobody reads any more without risking an unhandled `error` event (undici bodies emit one). */
export function destroyQuietly(stream: {
  destroyed?: boolean;
  destroy(): unknown;
  on(e: 'error', f: () => void): unknown;
}): void {
  stream.on('error', noop);
  if (!stream.destroyed) stream.destroy();
}
