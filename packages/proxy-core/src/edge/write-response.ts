/**
 * Write a ProxyResponse to a node:http ServerResponse: JSON serialised once, SSE event by event with
 * backpressure, raw streams piped. Never buffers a stream.
 */
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { channels, type SseStreamMessage } from '../diagnostics.js';
import type { Exchange } from '../exchange.js';
import { contentTypeOf, isSseContentType, type ProxyResponse } from '../response.js';
import type { SseEvent } from '../sse/event.js';
import { serializeSseEvent } from '../sse/serialize.js';
import { destroyQuietly } from '../internal/body.js';

export interface WriteResponseOptions {
  /** Published with `channels.sseStream` open/close. */
  exchange?: Exchange | undefined;
  /**
   * When aborted, a streaming body is ended *cleanly* (the response is finished after the last whole
   * event) instead of being relayed further. The server uses it for graceful shutdown.
   */
  endSignal?: AbortSignal | undefined;
  /** Extra headers set on every answer (e.g. `x-request-id`). */
  headers?: Record<string, string> | undefined;
}

/** Headers the edge never writes as received from the chain (node manages framing itself). */
const FRAMING = new Set(['transfer-encoding', 'connection', 'keep-alive']);

function applyHeaders(res: ProxyResponse, out: ServerResponse, extra?: Record<string, string>): void {
  for (const [name, value] of Object.entries(res.headers)) {
    if (FRAMING.has(name)) continue;
    out.setHeader(name, value);
  }
  if (extra) for (const [name, value] of Object.entries(extra)) out.setHeader(name, value);
}

/** Resolves when the response is finished or the client went away; never rejects. */
export async function writeResponse(
  res: ProxyResponse,
  out: ServerResponse,
  options: WriteResponseOptions = {},
): Promise<void> {
  if (out.headersSent || out.writableEnded || out.destroyed) {
    destroyBody(res);
    return;
  }
  const body = res.body;
  out.statusCode = res.status;
  switch (body.type) {
    case 'empty': {
      applyHeaders(res, out, options.headers);
      out.removeHeader('content-length');
      if (res.status !== 204 && res.status !== 304) out.setHeader('content-length', '0');
      out.end();
      return;
    }
    case 'json': {
      applyHeaders(res, out, options.headers);
      const payload = Buffer.from(JSON.stringify(body.value) ?? 'null');
      if (!out.hasHeader('content-type')) out.setHeader('content-type', 'application/json');
      out.setHeader('content-length', String(payload.length));
      out.end(payload);
      return;
    }
    case 'sse': {
      applyHeaders(res, out, options.headers);
      out.removeHeader('content-length');
      if (!out.hasHeader('content-type')) out.setHeader('content-type', 'text/event-stream');
      if (!out.hasHeader('cache-control')) out.setHeader('cache-control', 'no-cache');
      out.setHeader('x-accel-buffering', 'no');
      await relaySse(body.events, out, options);
      return;
    }
    case 'stream': {
      applyHeaders(res, out, options.headers);
      await relayStream(body.stream, out, options, isSseContentType(contentTypeOf(res)));
      return;
    }
  }
}

function destroyBody(res: ProxyResponse): void {
  if (res.body.type === 'stream') destroyQuietly(res.body.stream);
  else if (res.body.type === 'sse') {
    const it = res.body.events[Symbol.asyncIterator]();
    void it.return?.()?.catch(() => {});
  }
}

function publishSse(options: WriteResponseOptions, state: 'open' | 'close'): void {
  if (options.exchange && channels.sseStream.hasSubscribers) {
    channels.sseStream.publish({ exchange: options.exchange, state } satisfies SseStreamMessage);
  }
}

/** Callbacks of the open responses watching each end signal (see `watchAbort`). */
const abortWatchers = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Call `fn` when `signal` aborts; returns an unsubscribe function. Every open response watches the
 * same shutdown signal, so the signal gets ONE `abort` listener fanning out to a Set: a listener per
 * response would make each add/remove O(open streams) in EventTarget and trip Node's
 * MaxListenersExceededWarning past 10 open streams. The listener stays while the signal lives.
 */
function watchAbort(signal: AbortSignal, fn: () => void): () => void {
  let fns = abortWatchers.get(signal);
  if (fns === undefined) {
    const set = new Set<() => void>();
    fns = set;
    abortWatchers.set(signal, set);
    signal.addEventListener(
      'abort',
      () => {
        abortWatchers.delete(signal);
        for (const f of set) f();
        set.clear();
      },
      { once: true },
    );
  }
  const own = fns;
  own.add(fn);
  return () => {
    own.delete(fn);
  };
}

/**
 * Fires once when the client goes away (`out` closes) or `endSignal` fires. One per streamed response;
 * much cheaper than an AbortController (no DOMException, no EventTarget dispatch per response).
 */
class Stopper {
  stopped = false;
  readonly #waiters = new Set<() => void>();
  readonly #out: ServerResponse;
  readonly #unwatch: () => void;
  readonly #stop = (): void => {
    if (this.stopped) return;
    this.stopped = true;
    for (const w of this.#waiters) w();
    this.#waiters.clear();
  };

  constructor(out: ServerResponse, endSignal: AbortSignal | undefined) {
    this.#out = out;
    if (out.destroyed || endSignal?.aborted) this.stopped = true;
    out.once('close', this.#stop);
    this.#unwatch = endSignal === undefined || endSignal.aborted ? noop : watchAbort(endSignal, this.#stop);
  }

  /** Call `fn` when stopping (at once when already stopped). Returns an unsubscribe function. */
  onStop(fn: () => void): () => void {
    if (this.stopped) {
      fn();
      return noop;
    }
    this.#waiters.add(fn);
    return () => this.#waiters.delete(fn);
  }

  dispose(): void {
    this.#waiters.clear();
    this.#out.off('close', this.#stop);
    this.#unwatch();
  }
}

const noop = (): void => {};

/** Wait until `out` drains, closes, or `stop` fires. Resolves false when writing must stop. */
function drained(out: ServerResponse, stop: Stopper): Promise<boolean> {
  if (out.destroyed || stop.stopped) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const onDrain = () => {
      unsubscribe();
      resolve(!out.destroyed);
    };
    out.once('drain', onDrain);
    const unsubscribe = stop.onStop(() => {
      out.off('drain', onDrain);
      resolve(false);
    });
  });
}

/**
 * The iterator's next step, or `'stop'` as soon as `stop` fires (a pending next() is interrupted; the
 * caller then calls the iterator's return()). Deliberately not `Promise.race([next(), stopped])` with
 * one long-lived `stopped` promise: every race adds a reaction to it that keeps the step (and its
 * event) reachable until the stream ends, which grows the heap with every relayed event.
 */
function nextOrStop<T>(iterator: AsyncIterator<T>, stop: Stopper): Promise<IteratorResult<T> | 'stop'> {
  if (stop.stopped) return Promise.resolve('stop');
  return new Promise<IteratorResult<T> | 'stop'>((resolve, reject) => {
    const unsubscribe = stop.onStop(() => resolve('stop'));
    iterator.next().then(
      (step) => {
        unsubscribe();
        resolve(step);
      },
      (err: unknown) => {
        unsubscribe();
        reject(err);
      },
    );
  });
}

async function relaySse(
  events: AsyncIterable<SseEvent>,
  out: ServerResponse,
  options: WriteResponseOptions,
): Promise<void> {
  const stop = new Stopper(out, options.endSignal);
  const iterator = events[Symbol.asyncIterator]();
  out.flushHeaders();
  publishSse(options, 'open');
  let failed = false;
  try {
    for (;;) {
      const step = await nextOrStop(iterator, stop);
      if (step === 'stop' || step.done) break;
      if (!out.write(serializeSseEvent(step.value))) {
        if (!(await drained(out, stop))) break;
      }
    }
  } catch {
    failed = true;
  } finally {
    stop.dispose();
    void Promise.resolve(iterator.return?.()).catch(() => {});
    publishSse(options, 'close');
  }
  finish(out, failed);
}

/**
 * Pipe a raw body to the client with backpressure, using plain stream events (no async iterator, no
 * per-response AbortController: this is the passthrough hot path). Resolves when done; never rejects.
 * A source error or premature close destroys the response (the client sees a truncation); the client
 * going away or `endSignal` stops relaying, and the response is ended cleanly when still writable.
 */
function relayStream(
  stream: Readable,
  out: ServerResponse,
  options: WriteResponseOptions,
  isSse: boolean,
): Promise<void> {
  if (isSse) {
    out.removeHeader('content-length');
    out.setHeader('x-accel-buffering', 'no');
    out.flushHeaders();
    publishSse(options, 'open');
  }
  return new Promise<void>((resolve) => {
    const stop = new Stopper(out, options.endSignal);
    let settled = false;
    const done = (failed: boolean): void => {
      if (settled) return;
      settled = true;
      stop.dispose();
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
      out.off('drain', onDrain);
      destroyQuietly(stream);
      if (isSse) publishSse(options, 'close');
      finish(out, failed);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      if (!out.write(chunk)) stream.pause();
    };
    const onDrain = (): void => {
      stream.resume();
    };
    const onEnd = (): void => done(false);
    const onError = (): void => done(true);
    const onClose = (): void => done(!stream.readableEnded);
    if (stop.stopped) {
      done(false);
      return;
    }
    stop.onStop(() => done(false));
    stream.on('error', onError);
    stream.on('end', onEnd);
    stream.on('close', onClose);
    out.on('drain', onDrain);
    if (stream.readableEnded) {
      done(false);
      return;
    }
    if (stream.destroyed) {
      done(true);
      return;
    }
    stream.on('data', onData);
  });
}

/** End the response cleanly, or destroy it when the body failed mid-way (the client sees a truncation). */
function finish(out: ServerResponse, failed: boolean): void {
  if (out.destroyed || out.writableEnded) return;
  if (failed) out.destroy();
  else out.end();
}
