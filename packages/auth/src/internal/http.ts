/**
 * The one HTTP helper for identity-provider calls (JWKS, discovery, introspection): a timeout via
 * `AbortSignal.timeout`, redirects refused, a response-size cap, JSON object bodies only.
 */
import { AuthErrorCode, AuthUnavailableError } from '../errors.js';

export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

export interface IdpRequest {
  readonly method?: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly timeoutMs: number;
  /** Maximum accepted response body, bytes. */
  readonly maxBytes: number;
  readonly fetch: FetchLike;
  /** Aborts the call (e.g. on close). */
  readonly signal?: AbortSignal | undefined;
  /** Code used for every failure of this call. */
  readonly failureCode: AuthErrorCode;
  /** Public description used for every failure of this call. */
  readonly failureDescription: string;
  readonly retryAfterSeconds?: number;
}

export interface IdpResponse {
  readonly status: number;
  readonly headers: Headers;
  /** The parsed JSON object, or `undefined` when the status was not 2xx. */
  readonly json: Record<string, unknown> | undefined;
}

/**
 * Performs the call. Network errors, timeouts, non-JSON or oversized bodies reject with an
 * {@link AuthUnavailableError}; a non-2xx status resolves with `json: undefined` so callers decide.
 */
export async function idpFetch(url: string, request: IdpRequest): Promise<IdpResponse> {
  const fail = (
    cause: unknown,
    code: AuthErrorCode = request.failureCode,
    detail?: string,
  ): AuthUnavailableError =>
    new AuthUnavailableError(code, request.failureDescription, {
      cause,
      retryAfterSeconds: request.retryAfterSeconds,
      message: `${request.failureDescription}${detail ? ` (${detail})` : ''}`,
    });
  const signals = [AbortSignal.timeout(request.timeoutMs)];
  if (request.signal) signals.push(request.signal);
  let response: Response;
  try {
    response = await request.fetch(url, {
      method: request.method ?? 'GET',
      headers: { accept: 'application/json', ...request.headers },
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.any(signals),
    });
  } catch (err) {
    const timedOut = (err as { name?: unknown })?.name === 'TimeoutError';
    throw fail(
      err,
      timedOut ? AuthErrorCode.IdpTimeout : request.failureCode,
      timedOut ? 'timeout' : 'unreachable',
    );
  }
  if (response.status < 200 || response.status > 299) {
    await response.body?.cancel().catch(() => {});
    return { status: response.status, headers: response.headers, json: undefined };
  }
  let text: string;
  try {
    text = await readCapped(response, request.maxBytes);
  } catch (err) {
    throw fail(err, AuthErrorCode.IdpResponseInvalid, 'body unreadable or too large');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw fail(err, AuthErrorCode.IdpResponseInvalid, 'body is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw fail(undefined, AuthErrorCode.IdpResponseInvalid, 'body is not a JSON object');
  }
  return { status: response.status, headers: response.headers, json: parsed as Record<string, unknown> };
}

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw new RangeError('response too large');
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new RangeError('response too large');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
