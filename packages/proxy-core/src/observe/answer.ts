/**
 * Observe the JSON-RPC answer of a response on its way to the client, without holding it back or
 * changing a byte: JSON values are looked at in place, SSE event iterables event by event (the iterator
 * is wrapped), raw byte streams through a tap that only reads what flows by. `onDone` is called exactly
 * once, when the body has ended (or could not be delivered), with what was learned.
 *
 * This is what observation-only layers (audit, telemetry) use instead of a transform: a transform turns
 * a raw body into parsed JSON or parsed SSE events, which the edge must then serialise again and write
 * in several socket writes. Several observers of the same raw stream share ONE tap: the body is decoded
 * and parsed once, whoever asks.
 */
import type { Readable } from 'node:stream';
import type { JsonRpcId } from '../jsonrpc.js';
import { contentTypeOf, isJsonContentType, isSseContentType, type ProxyResponse } from '../response.js';
import type { SseEvent } from '../sse/event.js';
import { SseDataReader } from './sse-data-reader.js';

/** What the response told an observer. */
export interface AnswerFacts {
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

export interface ObserveAnswerOptions {
  /** The JSON-RPC id of the request; the answer is the response message with this id. */
  rpcId: JsonRpcId | undefined;
  /** Whether an answer is expected at all (requests yes; notifications, GET, DELETE no). */
  expectsAnswer: boolean;
  /** Largest JSON body / SSE event inspected, bytes. */
  maxInspectBytes: number;
  /** Fires when the client goes away; used when nobody ever consumes the body. */
  signal: AbortSignal;
  /** Report as soon as headers are known (long-lived GET streams). */
  atOpen?: boolean | undefined;
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

/** The JSON object `text` holds, or undefined (not an object, not JSON). */
function parseObject(text: string): unknown {
  const t = text.trimStart();
  if (!t.startsWith('{')) return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}

/** One observer of a response, as the shared machinery sees it. */
interface Observer {
  readonly rpcId: JsonRpcId | undefined;
  readonly maxBytes: number;
  readonly facts: AnswerFacts;
  /** The body ended (`incomplete`: cut short) — report once. */
  settle(incomplete: boolean): void;
}

export function observeAnswer(
  res: ProxyResponse,
  options: ObserveAnswerOptions,
  onDone: (facts: AnswerFacts) => void,
): ProxyResponse {
  const facts: AnswerFacts = { status: res.status, sessionId: header(res, 'mcp-session-id') };
  let done = false;
  const finish = (incomplete: boolean): void => {
    if (done) return;
    done = true;
    if (incomplete && options.expectsAnswer && facts.answer === undefined) facts.incomplete = true;
    onDone(facts);
  };

  const body = res.body;
  if (options.atOpen === true || body.type === 'empty') {
    finish(false);
    return res;
  }
  if (body.type === 'json') {
    if (isAnswer(body.value, options.rpcId)) facts.answer = body.value;
    finish(false);
    return res;
  }

  if (body.type === 'stream') {
    const ct = contentTypeOf(res);
    const kind = isSseContentType(ct) ? 'sse' : isJsonContentType(ct) ? 'json' : 'other';
    StreamTap.attach(body.stream, kind, options.signal, {
      rpcId: options.rpcId,
      maxBytes: options.maxInspectBytes,
      facts,
      settle: finish,
    });
    // The same response, the same stream: nothing is copied and `content-length` stays right.
    return res;
  }

  // Safety net: an event iterable nobody ever starts reading (the client left before the edge wrote it).
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
  return {
    ...res,
    body: {
      type: 'sse',
      events: observeEvents(body.events, options, facts, settle, () => {
        started = true;
      }),
    },
  };
}

const kTap = Symbol('bastion.answerTap');
type Tapped = Readable & { [kTap]?: StreamTap | undefined };

/**
 * Watch a raw body as its consumer reads it, without a Transform, `pipeline()` or copy in between:
 * a `data` listener put *first* with `prependListener` (which, unlike `on('data')`, does not switch the
 * stream to flowing mode, so the consumer still decides when to read) sees every chunk handed to the
 * consumer, whether it reads with `data` events, `pipe`, `read()` or an async iterator. The end of the
 * body is the stream's `end` (complete) or a `close` without `end` (cut short or destroyed).
 *
 * One tap per stream: a later observer of the same, not yet flowing stream joins it (same kind and
 * client signal), so the body is decoded and each message parsed once for all of them.
 */
class StreamTap {
  readonly #stream: Tapped;
  readonly #kind: 'json' | 'sse' | 'other';
  readonly #signal: AbortSignal;
  readonly #observers: Observer[] = [];
  #maxBytes = 0;
  #reader: SseDataReader | undefined;
  #chunks: Uint8Array[] = [];
  #seen = 0;
  #bytes = true;
  #started = false;
  #settled = false;
  /** Observers still waiting for their answer in an SSE stream. */
  #waiting = 0;

  static attach(stream: Tapped, kind: 'json' | 'sse' | 'other', signal: AbortSignal, o: Observer): void {
    const existing = stream[kTap];
    // biome-ignore lint/complexity/useOptionalChain: an optional chain cannot reach a private member
    if (existing !== undefined && existing.#canJoin(kind, signal)) {
      existing.#add(o);
      return;
    }
    if (stream.destroyed) {
      o.settle(!stream.readableEnded);
      return;
    }
    const tap = new StreamTap(stream, kind, signal);
    tap.#add(o);
    stream[kTap] = tap;
    stream.prependListener('data', tap.#onData);
    stream.once('end', tap.#onEnd);
    stream.once('close', tap.#onClose);
    if (signal.aborted) tap.#onAbort();
    else signal.addEventListener('abort', tap.#onAbort, { once: true });
  }

  private constructor(stream: Tapped, kind: 'json' | 'sse' | 'other', signal: AbortSignal) {
    this.#stream = stream;
    this.#kind = kind;
    this.#signal = signal;
  }

  #canJoin(kind: string, signal: AbortSignal): boolean {
    return !this.#started && !this.#settled && kind === this.#kind && signal === this.#signal;
  }

  #add(o: Observer): void {
    this.#observers.push(o);
    this.#waiting++;
    if (o.maxBytes > this.#maxBytes) this.#maxBytes = o.maxBytes;
  }

  readonly #onData = (chunk: unknown): void => {
    this.#started = true;
    if (!this.#bytes) return;
    if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) {
      // An object-mode body (a custom layer's): nothing to read; the outcome comes from the status.
      this.#bytes = false;
      this.#chunks = [];
      return;
    }
    if (this.#kind === 'sse') {
      if (this.#waiting === 0) return;
      this.#reader ??= new SseDataReader(this.#maxBytes);
      for (const data of this.#reader.push(chunk)) this.#offer(data);
    } else if (this.#kind === 'json') {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      this.#seen += buf.length;
      if (this.#seen <= this.#maxBytes) this.#chunks.push(buf);
      else this.#chunks = [];
    }
  };

  /** One SSE event's data: parsed once, offered to every observer still waiting for its answer. */
  #offer(data: string): void {
    let value: unknown;
    let parsed = false;
    for (const o of this.#observers) {
      if (o.facts.answer !== undefined || data.length > o.maxBytes) continue;
      if (!parsed) {
        value = parseObject(data);
        parsed = true;
      }
      if (isAnswer(value, o.rpcId)) {
        o.facts.answer = value;
        this.#waiting--;
      }
    }
  }

  readonly #onEnd = (): void => {
    if (this.#kind === 'json' && this.#bytes) {
      const seen = this.#seen;
      let value: unknown;
      let parsed = false;
      for (const o of this.#observers) {
        if (seen > o.maxBytes) {
          o.facts.uninspectedBytes = seen;
          continue;
        }
        if (!parsed) {
          value = parseObject(Buffer.concat(this.#chunks, seen).toString('utf8'));
          parsed = true;
        }
        if (isAnswer(value, o.rpcId)) o.facts.answer = value;
      }
    }
    this.#settle(false);
  };

  readonly #onClose = (): void => this.#settle(true);

  /** Safety net: a body nobody ever starts consuming (the client left before the edge wrote it). */
  readonly #onAbort = (): void => {
    if (!this.#started) this.#settle(true);
  };

  #settle(incomplete: boolean): void {
    if (this.#settled) return;
    this.#settled = true;
    const stream = this.#stream;
    stream.off('data', this.#onData);
    stream.off('end', this.#onEnd);
    stream.off('close', this.#onClose);
    this.#signal.removeEventListener('abort', this.#onAbort);
    if (stream[kTap] === this) stream[kTap] = undefined;
    this.#chunks = [];
    for (const o of this.#observers) o.settle(incomplete);
  }
}

/** Wrap an SSE event iterable; a hand-written iterator so `return()` takes effect immediately. */
function observeEvents(
  events: AsyncIterable<SseEvent>,
  options: ObserveAnswerOptions,
  facts: AnswerFacts,
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
              const value = parseObject(ev.data);
              if (isAnswer(value, options.rpcId)) facts.answer = value;
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
