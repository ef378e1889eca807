import { Readable } from 'node:stream';
import { ProxyCoreErrorCode, ProxyHttpError } from '../errors.js';
import { JsonRpcErrorCode } from '../jsonrpc.js';

/** Thrown by `readBody` when more than `maxBytes` arrive. */
export class BodyLimitError extends Error {
  readonly code = 'ERR_BASTION_PROXY_BODY_LIMIT';
  constructor(readonly limit: number) {
    super(`body exceeds ${limit} bytes`);
  }
}

/**
 * Read an async byte stream fully, stopping as soon as it exceeds `maxBytes` (a generic iterable is
 * then returned, i.e. destroyed; a node Readable is left paused for the caller to drain or destroy).
 */
export async function readBody(
  source: AsyncIterable<Uint8Array | string>,
  maxBytes: number,
): Promise<Buffer> {
  if (source instanceof Readable && !source.readableObjectMode) return readStream(source, maxBytes);
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

function prematureClose(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

/**
 * `readBody` for a node Readable (request bodies, upstream answers): the same contract with plain
 * stream events instead of `for await`, whose async iterator (and its end-of-stream watcher) cost
 * several µs and a few KB per body on the hot path.
 */
function readStream(stream: Readable, maxBytes: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    if (stream.readableEnded) return resolve(Buffer.alloc(0));
    if (stream.destroyed) return reject(stream.errored ?? prematureClose());
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (err: unknown, body?: Buffer): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
      if (err === undefined) resolve(body as Buffer);
      else reject(err);
    };
    const onData = (chunk: Uint8Array | string): void => {
      const buf =
        typeof chunk === 'string'
          ? Buffer.from(chunk)
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      size += buf.length;
      if (size > maxBytes) {
        // Paused, not destroyed: the caller disposes of the source (the server drains the rest of
        // a request to answer 413 on a live socket; `bufferStream` destroys an upstream body quietly).
        stream.pause();
        finish(new BodyLimitError(maxBytes));
        return;
      }
      chunks.push(buf);
    };
    const onEnd = (): void =>
      finish(undefined, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    const onError = (err: unknown): void => finish(err);
    const onClose = (): void => finish(stream.errored ?? prematureClose());
    stream.on('error', onError);
    stream.on('end', onEnd);
    stream.on('close', onClose);
    stream.on('data', onData);
  });
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
