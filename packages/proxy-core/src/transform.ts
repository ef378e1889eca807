/**
 * Response transforms that work on JSON and SSE bodies alike, message by message.
 */
import type { Readable } from 'node:stream';
import { ProxyCoreErrorCode, ProxyHttpError } from './errors.js';
import { BodyLimitError, destroyQuietly, readBody, upstreamTooLarge } from './internal/body.js';
import { JsonRpcErrorCode, type JsonRpcMessage } from './jsonrpc.js';
import {
  contentTypeOf,
  isJsonContentType,
  isSseContentType,
  type ProxyResponse,
  type ResponseHeaders,
} from './response.js';
import type { SseEvent } from './sse/event.js';
import { parseSse } from './sse/parser.js';

export interface MapMessagesOptions {
  /** Largest JSON body buffered for a transform, in bytes. Default 16 MiB. */
  maxJsonBytes?: number | undefined;
}

const DEFAULT_MAX_JSON_BYTES = 16 * 1024 * 1024;

function withoutLength(headers: ResponseHeaders): ResponseHeaders {
  const out: ResponseHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (k !== 'content-length') out[k] = v;
  }
  return out;
}

function isJsonRpcObject(v: unknown): v is JsonRpcMessage {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    (v as { jsonrpc?: unknown }).jsonrpc === '2.0' &&
    ('method' in v || 'result' in v || 'error' in v)
  );
}

function checkLimit(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_JSON_BYTES;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new TypeError('"maxJsonBytes" must be a positive integer');
  }
  return value;
}

/**
 * Buffer and parse a JSON body (`json` bodies are returned as is). Returns `undefined` for an empty body.
 * @throws ProxyHttpError `ERR_BASTION_PROXY_UPSTREAM_RESPONSE_TOO_LARGE` (502) over `maxJsonBytes`,
 *   `ERR_BASTION_PROXY_UPSTREAM_BAD_RESPONSE` (502) when the bytes are not JSON.
 */
export async function readJsonBody(res: ProxyResponse, options?: MapMessagesOptions): Promise<unknown> {
  const limit = checkLimit(options?.maxJsonBytes);
  const body = res.body;
  if (body.type === 'json') return body.value;
  if (body.type === 'empty') return undefined;
  if (body.type === 'sse') throw new TypeError('readJsonBody: the body is an SSE stream');
  const raw = await bufferStream(body.stream, limit);
  if (raw.length === 0) return undefined;
  return parseJsonOrThrow(raw);
}

async function bufferStream(stream: Readable, limit: number): Promise<Buffer> {
  try {
    return await readBody(stream, limit);
  } catch (err) {
    if (err instanceof BodyLimitError) {
      destroyQuietly(stream);
      throw upstreamTooLarge(limit, err);
    }
    throw err;
  }
}

function parseJsonOrThrow(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new ProxyHttpError({
      status: 502,
      rpcCode: JsonRpcErrorCode.InternalError,
      publicMessage: 'Invalid response from upstream MCP server',
      code: ProxyCoreErrorCode.UpstreamBadResponse,
      message: 'upstream JSON body does not parse',
      cause: err,
    });
  }
}

/**
 * The SSE events of a response whose body is `sse`, or a `stream` with an SSE content type (parsed
 * lazily, event by event). Returns `undefined` for any other body.
 */
export function sseEventsOf(res: ProxyResponse): AsyncIterable<SseEvent> | undefined {
  if (res.body.type === 'sse') return res.body.events;
  if (res.body.type === 'stream' && isSseContentType(contentTypeOf(res))) return parseSse(res.body.stream);
  return undefined;
}

/** A copy of `res` with an `sse` body of `events` (content-length dropped). */
export function toSseBody(res: ProxyResponse, events: AsyncIterable<SseEvent>): ProxyResponse {
  return { status: res.status, headers: withoutLength(res.headers), body: { type: 'sse', events } };
}

/** Map each SSE event lazily; `fn` returns the replacement event (or `undefined` to drop it). */
export async function* mapSseEvents(
  events: AsyncIterable<SseEvent>,
  fn: (event: SseEvent) => SseEvent | undefined | Promise<SseEvent | undefined>,
): AsyncGenerator<SseEvent> {
  for await (const ev of events) {
    const out = await fn(ev);
    if (out !== undefined) yield out;
  }
}

/**
 * Return a response whose JSON-RPC messages are passed through `fn`, whether the body is a JSON
 * object or an SSE stream (each `message` event whose data parses as JSON-RPC is mapped; other events
 * pass unchanged, event by event, never buffering the stream). `fn` may return the same message.
 * `content-length` is removed when the body changes. Non-JSON/non-SSE bodies are returned unchanged.
 *
 * JSON bodies are buffered up to `maxJsonBytes` (default 16 MiB) and then fail with
 * `ERR_BASTION_PROXY_UPSTREAM_RESPONSE_TOO_LARGE` (502). A JSON content type whose bytes are not JSON fails
 * with `ERR_BASTION_PROXY_UPSTREAM_BAD_RESPONSE` (502). A JSON array (a batch answer) has each element mapped.
 */
export async function mapResponseMessages(
  res: ProxyResponse,
  fn: (message: JsonRpcMessage) => JsonRpcMessage | Promise<JsonRpcMessage>,
  options?: MapMessagesOptions,
): Promise<ProxyResponse> {
  const limit = checkLimit(options?.maxJsonBytes);
  const events = sseEventsOf(res);
  if (events) {
    return toSseBody(
      res,
      mapSseEvents(events, async (ev) => {
        if (ev.event !== undefined && ev.event !== 'message') return ev;
        if (ev.data === '') return ev;
        let parsed: unknown;
        try {
          parsed = JSON.parse(ev.data);
        } catch {
          return ev;
        }
        if (!isJsonRpcObject(parsed)) return ev;
        const mapped = await fn(parsed);
        // Unchanged message: relay the event as received (no re-serialisation, byte-identical data).
        if (mapped === parsed) return ev;
        return { ...ev, data: JSON.stringify(mapped) };
      }),
    );
  }
  const body = res.body;
  if (body.type === 'empty' || body.type === 'sse') return res;
  let value: unknown;
  if (body.type === 'json') {
    value = body.value;
  } else {
    if (!isJsonContentType(contentTypeOf(res))) return res;
    const raw = await bufferStream(body.stream, limit);
    if (raw.length === 0) return { status: res.status, headers: res.headers, body: { type: 'empty' } };
    value = parseJsonOrThrow(raw);
  }
  let mapped: unknown = value;
  if (isJsonRpcObject(value)) {
    mapped = await fn(value);
  } else if (Array.isArray(value)) {
    mapped = await Promise.all(value.map((m) => (isJsonRpcObject(m) ? fn(m) : m)));
  } else if (body.type === 'json') {
    return res;
  }
  return { status: res.status, headers: withoutLength(res.headers), body: { type: 'json', value: mapped } };
}
