import { Transform, type TransformCallback } from 'node:stream';

/** Passes bytes through and fails with `error()` when no chunk arrived for `idleMs`. */
export class IdleTimeoutStream extends Transform {
  #timer: NodeJS.Timeout;

  constructor(idleMs: number, error: () => Error) {
    super();
    this.#timer = setTimeout(() => this.destroy(error()), idleMs);
    this.#timer.unref();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#timer.refresh();
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    clearTimeout(this.#timer);
    cb();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    clearTimeout(this.#timer);
    cb(err);
  }
}
