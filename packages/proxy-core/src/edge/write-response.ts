/**
 * Write a ProxyResponse to a node:http ServerResponse: JSON serialised once, SSE event by event with
 * backpressure, raw streams piped. Never buffers a stream.
 */
import { once } from 'node:events';
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

/** Wait until `out` drains, closes, or `stop` fires. Returns false when writing must stop. */
async function drained(out: ServerResponse, stop: AbortSignal): Promise<boolean> {
  if (out.destroyed || stop.aborted) return false;
  try {
    await once(out, 'drain', { signal: stop });
    return !out.destroyed;
  } catch {
    return false;
  }
}

/** An AbortSignal fired when the client goes away or `endSignal` fires. */
function stopSignal(out: ServerResponse, endSignal: AbortSignal | undefined): AbortController {
  const ctrl = new AbortController();
  const onClose = () => ctrl.abort();
  out.once('close', onClose);
  endSignal?.addEventListener('abort', onClose, { once: true });
  ctrl.signal.addEventListener(
    'abort',
    () => {
      out.off('close', onClose);
      endSignal?.removeEventListener('abort', onClose);
    },
    { once: true },
  );
  return ctrl;
}

async function relaySse(
  events: AsyncIterable<SseEvent>,
  out: ServerResponse,
  options: WriteResponseOptions,
): Promise<void> {
  const stop = stopSignal(out, options.endSignal);
  const iterator = events[Symbol.asyncIterator]();
  // Interrupt a pending next() when we must stop: the iterator's return() is then called below.
  const stopped = new Promise<'stop'>((resolve) => {
    if (stop.signal.aborted) resolve('stop');
    else stop.signal.addEventListener('abort', () => resolve('stop'), { once: true });
  });
  out.flushHeaders();
  publishSse(options, 'open');
  let failed = false;
  try {
    for (;;) {
      const step = await Promise.race([iterator.next(), stopped]);
      if (step === 'stop' || step.done) break;
      if (!out.write(serializeSseEvent(step.value))) {
        if (!(await drained(out, stop.signal))) break;
      }
    }
  } catch {
    failed = true;
  } finally {
    stop.abort();
    void Promise.resolve(iterator.return?.()).catch(() => {});
    publishSse(options, 'close');
  }
  finish(out, failed);
}

async function relayStream(
  stream: Readable,
  out: ServerResponse,
  options: WriteResponseOptions,
  isSse: boolean,
): Promise<void> {
  const stop = stopSignal(out, options.endSignal);
  if (isSse) {
    out.removeHeader('content-length');
    out.setHeader('x-accel-buffering', 'no');
    out.flushHeaders();
    publishSse(options, 'open');
  }
  let failed = false;
  const onStop = () => destroyQuietly(stream);
  stop.signal.addEventListener('abort', onStop, { once: true });
  try {
    for await (const chunk of stream) {
      if (stop.signal.aborted) break;
      if (!out.write(chunk)) {
        if (!(await drained(out, stop.signal))) break;
      }
    }
  } catch {
    // A stream destroyed because we stopped on purpose is not a failure.
    failed = !stop.signal.aborted;
  } finally {
    stop.signal.removeEventListener('abort', onStop);
    stop.abort();
    destroyQuietly(stream);
    if (isSse) publishSse(options, 'close');
  }
  finish(out, failed);
}

/** End the response cleanly, or destroy it when the body failed mid-way (the client sees a truncation). */
function finish(out: ServerResponse, failed: boolean): void {
  if (out.destroyed || out.writableEnded) return;
  if (failed) out.destroy();
  else out.end();
}
