import type { Readable } from 'node:stream';

/**
 * Destroy `stream` with `error()` when no chunk arrived into it for `idleMs` (like undici's
 * `bodyTimeout`, which the forwarder cannot use because the SSE / non-SSE limit is only known once the
 * response headers are in). The watch sits on the stream's own `push` — the call through which undici
 * delivers body chunks — so no extra Transform stream, pipeline or copy is added per response. The timer
 * is cleared when the stream ends, fails or is destroyed.
 */
export function watchIdle(stream: Readable, idleMs: number, error: () => Error): Readable {
  const timer = setTimeout(() => {
    if (!stream.destroyed) stream.destroy(error());
  }, idleMs);
  timer.unref();
  const push = stream.push;
  stream.push = function pushWatched(this: Readable, chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk === null) clearTimeout(timer);
    else timer.refresh();
    return push.call(this, chunk, encoding);
  };
  stream.once('close', () => clearTimeout(timer));
  return stream;
}
