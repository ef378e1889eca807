/**
 * The one place the OAuth client does HTTP outside openid-client: timeouts through `AbortSignal`,
 * manual redirects (same origin only, at most 3), a size cap on JSON bodies, and network failures
 * turned into coded errors.
 */
import { OAuthClientError, OAuthClientErrorCode } from '../errors.js';

/** A WHATWG `fetch` compatible function (the global `fetch` by default). */
export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

export interface HttpContext {
  fetch: FetchLike;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

const MAX_REDIRECTS = 3;
export const MAX_JSON_BYTES = 1024 * 1024;

function combinedSignal(ctx: HttpContext): AbortSignal {
  const timeout = AbortSignal.timeout(ctx.timeoutMs);
  return ctx.signal ? AbortSignal.any([ctx.signal, timeout]) : timeout;
}

/** Translates a thrown fetch failure into a coded error (aborted by caller, timeout, network). */
export function networkError(
  cause: unknown,
  what: string,
  ctx?: { signal?: AbortSignal | undefined },
): OAuthClientError {
  if (cause instanceof OAuthClientError) return cause;
  if (ctx?.signal?.aborted) {
    return new OAuthClientError(OAuthClientErrorCode.Aborted, `The ${what} was aborted`, { cause });
  }
  if (chainHasName(cause, 'TimeoutError') || chainHasName(cause, 'AbortError')) {
    return new OAuthClientError(OAuthClientErrorCode.Network, `The ${what} timed out`, {
      cause,
      retryable: true,
    });
  }
  const detail = describeNetworkCause(cause);
  return new OAuthClientError(OAuthClientErrorCode.Network, `The ${what} failed: ${detail}`, {
    cause,
    retryable: true,
  });
}

function chainHasName(cause: unknown, name: string): boolean {
  let current: unknown = cause;
  for (let i = 0; i < 6 && current && typeof current === 'object'; i++) {
    if ((current as { name?: unknown }).name === name) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

function describeNetworkCause(cause: unknown): string {
  let current: unknown = cause;
  for (let i = 0; i < 4 && current; i++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return 'network error';
}

/**
 * Sends one request, following up to 3 same-origin redirects. The response body is left unread;
 * callers must consume or cancel it.
 */
export async function httpRequest(
  url: string,
  init: RequestInit,
  ctx: HttpContext,
  what: string,
): Promise<Response> {
  let target = url;
  for (let hop = 0; ; hop++) {
    let res: Response;
    try {
      res = await ctx.fetch(target, { ...init, redirect: 'manual', signal: combinedSignal(ctx) });
    } catch (cause) {
      throw networkError(cause, what, ctx);
    }
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location && hop < MAX_REDIRECTS) {
      const next = new URL(location, target);
      if (next.origin !== new URL(target).origin) return res;
      await res.body?.cancel().catch(() => {});
      target = next.href;
      continue;
    }
    return res;
  }
}

/** Reads a JSON object body (capped at 1 MiB); `undefined` when it is not a JSON object. */
export async function readJsonObject(res: Response): Promise<Record<string, unknown> | undefined> {
  const type = res.headers.get('content-type') ?? '';
  if (!/\bjson\b/i.test(type)) {
    await res.body?.cancel().catch(() => {});
    return undefined;
  }
  const length = Number(res.headers.get('content-length') ?? '0');
  if (length > MAX_JSON_BYTES) {
    await res.body?.cancel().catch(() => {});
    return undefined;
  }
  let text: string;
  try {
    const buf = await res.arrayBuffer();
    if (buf.byteLength > MAX_JSON_BYTES) return undefined;
    text = new TextDecoder().decode(buf);
  } catch {
    return undefined;
  }
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export function stringArray(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
}
