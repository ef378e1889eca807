import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

/** One inbound HTTP request as the upstream saw it. */
export interface RecordedRequest {
  /** HTTP method, e.g. `'POST'`. */
  readonly method: string;
  /** Path and query exactly as received, e.g. `'/api/v1/messages?sessionId=…'`. */
  readonly url: string;
  /** Path without the query. */
  readonly path: string;
  /** Query parameters (the last value wins when a name repeats). */
  readonly query: Readonly<Record<string, string>>;
  /** Headers with lower-cased names (Node's `IncomingHttpHeaders`). */
  readonly headers: Readonly<IncomingHttpHeaders>;
  /** The body parsed as JSON, or `undefined` when empty or not JSON. */
  readonly body: unknown;
  /** The raw body as UTF-8 text (`''` when empty). */
  readonly rawBody: string;
  /** `body.method` when the body is a JSON-RPC message, else `undefined`. */
  readonly rpcMethod: string | undefined;
  /** Status code of the upstream's answer, set once the response head is sent; `undefined` if none was sent (yet). */
  status: number | undefined;
}

/** Reads a request body completely. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Parses JSON; `{ ok: false }` for an empty or malformed body. */
export function tryParseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text.trim() === '') return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** Builds the record of a request whose body was already read. */
export function recordRequest(req: IncomingMessage, rawBody: string): RecordedRequest {
  const url = req.url ?? '/';
  const parsedUrl = new URL(url, 'http://upstream.invalid');
  const parsed = tryParseJson(rawBody);
  const body = parsed.ok ? parsed.value : undefined;
  const rpcMethod =
    typeof body === 'object' && body !== null && typeof (body as { method?: unknown }).method === 'string'
      ? (body as { method: string }).method
      : undefined;
  return {
    method: req.method ?? 'GET',
    url,
    path: parsedUrl.pathname,
    query: Object.fromEntries(parsedUrl.searchParams),
    headers: { ...req.headers },
    body,
    rawBody,
    rpcMethod,
    status: undefined,
  };
}
