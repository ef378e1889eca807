/**
 * Observe a response on its way to the client without holding it back: JSON bodies are inspected in
 * place, SSE bodies event by event (the iterator is wrapped), raw byte streams through a pass-through
 * tap that only reads what flows by. `onDone` is called exactly once, when the body has ended (or
 * could not be delivered), with what was learned.
 */
import type { Readable } from 'node:stream';
import type { JsonRpcId, ProxyResponse, SseEvent } from '@bastion-mcp/proxy-core';
import { contentTypeOf, isJsonContentType, isSseContentType } from '@bastion-mcp/proxy-core';
import { SseDataReader } from './sse-data.js';

/** What the response told us. */
export interface ResponseFacts {
  status: number;
  /** The JSON-RPC answer to the request (for SSE: the message whose id matches), when seen. */
  answer?: Record<string, unknown> | undefined;
  /** A JSON body too large to inspect, bytes seen. */
  uninspectedBytes?: number | undefined;
  /** The body ended before the answer (client went away, upstream cut the stream). */
  incomplete?: boolean | undefined;
  /** The session id the upstream assigned (`mcp-session-id` response header). */
  sessionId?: string | undefined;
}

export interface ObserveOptions {
  /** The JSON-RPC id of the request; the answer is the response message with this id. */
  rpcId: JsonRpcId | undefined;
  /** Whether an answer is expected at all (requests yes; notifications, GET, DELETE no). */
  expectsAnswer: boolean;
  /** Largest JSON body / SSE event inspected, bytes. */
  maxInspectBytes: number;
  /** Fires when the client goes away; used when nobody ever consumes the body. */
  signal: AbortSignal;
  /** Emit as soon as headers are known (long-lived GET streams). */
  atOpen: boolean;
}

function header(res: ProxyResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function isAnswer(value: unknown, rpcId: JsonRpcId | undefined): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const m = value as Record<string, unknown>;
  if ('method' in m || !('result' in m || 'error' in m)) return false;
  return rpcId === undefined || m.id === rpcId;
}

function parseAnswer(text: string, rpcId: JsonRpcId | undefined): Record<string, unknown> | undefined {
  const t = text.trimStart();
  if (!t.startsWith('{')) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    return isAnswer(v, rpcId) ? v : undefined;
  } catch {
    return undefined;
  }
}

export function observeResponse(
  res: ProxyResponse,
  options: ObserveOptions,
  onDone: (facts: ResponseFacts) => void,
): ProxyResponse {
  const facts: ResponseFacts = { status: res.status, sessionId: header(res, 'mcp-session-id') };
  let done = false;
  const finish = (incomplete: boolean): void => {
    if (done) return;
    done = true;
    if (incomplete && options.expectsAnswer && facts.answer === undefined) facts.incomplete = true;
    onDone(facts);
  };

  const body = res.body;
  if (options.atOpen || body.type === 'empty') {
    finish(false);
    return res;
  }
  if (body.type === 'json') {
    if (isAnswer(body.value, options.rpcId)) facts.answer = body.value;
    finish(false);
    return res;
  }

  // Safety net: a body nobody ever starts consuming (the client left before the edge wrote it).
  let started = false;
  const onAbort = () => {
    if (!started) finish(true);
  };
  if (options.signal.aborted) onAbort();
  else options.signal.addEventListener('abort', onAbort, { once: true });
  const settle = (incomplete: boolean) => {
    options.signal.removeEventListener('abort', onAbort);
    finish(incomplete);
  };

  if (body.type === 'sse') {
    return {
      ...res,
      body: {
        type: 'sse',
        events: observeEvents(body.events, options, facts, settle, () => (started = true)),
      },
    };
  }

  const ct = contentTypeOf(res);
  const sse = isSseContentType(ct);
  tapStream(
    body.stream,
    sse ? 'sse' : isJsonContentType(ct) ? 'json' : 'other',
    options,
    facts,
    settle,
    () => {
      started = true;
    },
  );
  // The same response, the same stream: nothing is copied and `content-length` stays right.
  return res;
}

/**
 * Watch a raw body as its consumer reads it, without a Transform, `pipeline()` or copy in between:
 * a `data` listener put *first* with `prependListener` (which, unlike `on('data')`, does not switch the
 * stream to flowing mode, so the consumer still decides when to read) sees every chunk handed to the
 * consumer, whether it reads with `data` events, `pipe`, `read()` or an async iterator. The end of the
 * body is the stream's `end` (complete) or a `close` without `end` (cut short or destroyed).
 */
function tapStream(
  stream: Readable,
  kind: 'json' | 'sse' | 'other',
  options: ObserveOptions,
  facts: ResponseFacts,
  settle: (incomplete: boolean) => void,
  onStart: () => void,
): void {
  if (stream.destroyed) {
    settle(!stream.readableEnded);
    return;
  }
  const reader = kind === 'sse' ? new SseDataReader(options.maxInspectBytes) : undefined;
  const chunks: Uint8Array[] = [];
  let seen = 0;
  let bytes = true;
  const onData = (chunk: unknown): void => {
    onStart();
    if (!bytes) return;
    if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) {
      // An object-mode body (a custom layer's): nothing to read; the outcome comes from the status.
      bytes = false;
      chunks.length = 0;
      return;
    }
    if (reader) {
      if (facts.answer !== undefined) return;
      for (const data of reader.push(chunk)) {
        const answer = parseAnswer(data, options.rpcId);
        if (answer) facts.answer = answer;
      }
    } else if (kind === 'json') {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      seen += buf.length;
      if (seen <= options.maxInspectBytes) chunks.push(buf);
      else chunks.length = 0;
    }
  };
  const onEnd = (): void => {
    cleanup();
    if (kind === 'json' && bytes) {
      if (seen > options.maxInspectBytes) facts.uninspectedBytes = seen;
      else facts.answer = parseAnswer(Buffer.concat(chunks, seen).toString('utf8'), options.rpcId);
    }
    settle(false);
  };
  const onClose = (): void => {
    cleanup();
    settle(true);
  };
  const cleanup = (): void => {
    stream.off('data', onData);
    stream.off('end', onEnd);
    stream.off('close', onClose);
  };
  stream.prependListener('data', onData);
  stream.once('end', onEnd);
  stream.once('close', onClose);
}

/** Wrap an SSE event iterable; a hand-written iterator so `return()` takes effect immediately. */
function observeEvents(
  events: AsyncIterable<SseEvent>,
  options: ObserveOptions,
  facts: ResponseFacts,
  settle: (incomplete: boolean) => void,
  onStart: () => void,
): AsyncIterable<SseEvent> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<SseEvent> {
      onStart();
      const inner = events[Symbol.asyncIterator]();
      return {
        async next() {
          let step: IteratorResult<SseEvent>;
          try {
            step = await inner.next();
          } catch (err) {
            settle(true);
            throw err;
          }
          if (step.done) {
            settle(false);
            return step;
          }
          const ev = step.value;
          if (facts.answer === undefined && (ev.event === undefined || ev.event === 'message')) {
            if (ev.data.length <= options.maxInspectBytes) {
              const answer = parseAnswer(ev.data, options.rpcId);
              if (answer) facts.answer = answer;
            }
          }
          return step;
        },
        async return(value?: unknown) {
          settle(true);
          if (inner.return) return inner.return(value);
          return { done: true, value: undefined };
        },
        async throw(err?: unknown) {
          settle(true);
          if (inner.throw) return inner.throw(err);
          throw err;
        },
      };
    },
  };
}
