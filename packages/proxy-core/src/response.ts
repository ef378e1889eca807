/**
 * Responses travelling back through the chain. A body is one of:
 * - `empty`: no body (202 Accepted, DELETE, ...);
 * - `json`: a parsed JSON value, serialised once at the edge;
 * - `sse`: an async iterable of SSE events, serialised event by event at the edge (never buffered);
 * - `stream`: raw bytes piped untouched (the forwarder's default for bodies nobody transforms).
 */
import type { Readable } from 'node:stream';
import type { SseEvent } from './sse/event.js';

export type ResponseHeaders = Record<string, string | string[]>;

export type ResponseBody =
  | { readonly type: 'empty' }
  | { readonly type: 'json'; readonly value: unknown }
  | { readonly type: 'sse'; readonly events: AsyncIterable<SseEvent> }
  | { readonly type: 'stream'; readonly stream: Readable };

export interface ProxyResponse {
  status: number;
  /** Lower-case header names. `content-length` is dropped automatically when a body is transformed. */
  headers: ResponseHeaders;
  body: ResponseBody;
}

export function contentTypeOf(res: ProxyResponse): string {
  const v = res.headers['content-type'];
  return (Array.isArray(v) ? v[0] : v)?.toLowerCase() ?? '';
}

export function isSseContentType(ct: string): boolean {
  return ct.startsWith('text/event-stream');
}

export function isJsonContentType(ct: string): boolean {
  return ct.startsWith('application/json') || /^application\/[^;]*\+json/.test(ct);
}

/** A JSON response with the given status (content-type set). */
export function jsonResponse(status: number, value: unknown, headers: ResponseHeaders = {}): ProxyResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: { type: 'json', value },
  };
}
