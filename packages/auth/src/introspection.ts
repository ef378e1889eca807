/**
 * RFC 7662 token introspection for opaque tokens, fail closed:
 * - the client authenticates with `client_secret_basic` (default) or `client_secret_post`;
 * - only `active: true` (the boolean) is accepted, and every returned claim is kept;
 * - `exp` is required by default, `nbf`, `iss` and `aud` are checked when present/configured;
 * - results are cached per SHA-256 of the token with TTL = min(exp − now, `cacheMaxTtlMs`);
 *   refusals are cached for `negativeCacheTtlMs`; concurrent identical tokens share one call;
 * - an unreachable, failing or garbled endpoint raises {@link AuthUnavailableError} (503), never
 *   an acceptance, and is never cached.
 */
import { type Exchange, publishCacheLookup, traceIdpCall } from '@bastion-mcp/proxy-core';
import { AuthErrorCode, AuthUnavailableError, TokenRejectedError } from './errors.js';
import { type FetchLike, idpFetch } from './internal/http.js';
import { TtlCache, tokenHash } from './internal/ttl-cache.js';
import {
  assertNonEmptyString,
  assertNonNegativeInteger,
  assertPositiveInteger,
  parseIdpUrl,
} from './internal/validate.js';

export type IntrospectionAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

export interface IntrospectorOptions {
  /** The introspection endpoint, or a function resolving it (e.g. from discovery). */
  readonly url: string | ((exchange?: Exchange) => Promise<string>);
  /** Client id for the endpoint. Required unless `authMethod` is `'none'`. */
  readonly clientId?: string | undefined;
  /** Client secret VALUE (apps read it from env or a file). Required unless `authMethod` is `'none'`. */
  readonly clientSecret?: string | undefined;
  /** How the client authenticates. Default `'client_secret_basic'`. */
  readonly authMethod?: IntrospectionAuthMethod;
  /** When set, an `iss` in the response must equal it. */
  readonly issuer?: string | undefined;
  /** When set and the response has `aud`, it must contain one of these. */
  readonly audience?: string | readonly string[] | undefined;
  /** Refuse active responses without a numeric `exp`. Default `true`. */
  readonly requireExp?: boolean;
  /** Tolerated clock skew for `exp`/`nbf`, ms. Default 30000. */
  readonly clockToleranceMs?: number;
  /** Longest time an active result is reused, ms (never past `exp`). `0` disables. Default 60000. */
  readonly cacheMaxTtlMs?: number;
  /** How long a refused token is remembered, ms. `0` disables. Default 10000. */
  readonly negativeCacheTtlMs?: number;
  /** Most cached results. Default 10000. */
  readonly maxCacheEntries?: number;
  /** Per-call timeout, ms. Default 5000. */
  readonly timeoutMs?: number;
  /** `Retry-After` suggested when the endpoint is down, s. Default 5. */
  readonly retryAfterSeconds?: number;
  /** Largest accepted response body, bytes. Default 65536. */
  readonly maxResponseBytes?: number;
  /** Allow plain http for non-loopback hosts. Default `false`. */
  readonly allowInsecureHttp?: boolean;
  /** Custom fetch (custom CA, proxy, tests). Default the global `fetch`. */
  readonly fetch?: FetchLike;
  /** Clock, epoch ms. Default `Date.now`. */
  readonly now?: () => number;
}

export interface Introspector {
  /**
   * The claims of an active token.
   *
   * @throws {TokenRejectedError} inactive or invalid token (`…_TOKEN_INACTIVE`, `…_TOKEN_EXPIRED`, …).
   * @throws {AuthUnavailableError} endpoint unreachable or failing (`…_INTROSPECTION_UNAVAILABLE`).
   */
  introspect(token: string, exchange?: Exchange): Promise<Readonly<Record<string, unknown>>>;
  /** Number of cached results (positive and negative). */
  readonly cacheSize: number;
  /** Forget every cached result. */
  clear(): void;
  /** Abort calls in flight. */
  close(): void;
}

type CacheEntry =
  | { ok: true; claims: Readonly<Record<string, unknown>> }
  | { ok: false; error: TokenRejectedError };

const UNAVAILABLE = 'The token introspection service is unavailable';

export function createIntrospector(options: IntrospectorOptions): Introspector {
  if (options === null || typeof options !== 'object') throw new TypeError('"options" must be an object');
  const allowHttp = options.allowInsecureHttp ?? false;
  const resolveUrl =
    typeof options.url === 'function'
      ? options.url
      : (
          (u: string) => () =>
            Promise.resolve(u)
        )(parseIdpUrl('url', options.url, allowHttp).toString());
  const authMethod = options.authMethod ?? 'client_secret_basic';
  if (!['client_secret_basic', 'client_secret_post', 'none'].includes(authMethod)) {
    throw new TypeError('"authMethod" must be "client_secret_basic", "client_secret_post" or "none"');
  }
  if (authMethod !== 'none') {
    assertNonEmptyString('clientId', options.clientId);
    assertNonEmptyString('clientSecret', options.clientSecret);
  }
  const audience =
    options.audience === undefined
      ? undefined
      : typeof options.audience === 'string'
        ? [options.audience]
        : [...options.audience];
  const requireExp = options.requireExp ?? true;
  const tolerance = int('clockToleranceMs', options.clockToleranceMs, 30_000, false);
  const maxTtl = int('cacheMaxTtlMs', options.cacheMaxTtlMs, 60_000, false);
  const negativeTtl = int('negativeCacheTtlMs', options.negativeCacheTtlMs, 10_000, false);
  const maxEntries = int('maxCacheEntries', options.maxCacheEntries, 10_000, false);
  const timeoutMs = int('timeoutMs', options.timeoutMs, 5_000, true);
  const retryAfterSeconds = int('retryAfterSeconds', options.retryAfterSeconds, 5, true);
  const maxBytes = int('maxResponseBytes', options.maxResponseBytes, 64 * 1024, true);
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  const cache = new TtlCache<CacheEntry>(maxEntries, now);
  const inflight = new Map<string, Promise<CacheEntry>>();
  const abort = new AbortController();

  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  const credentials: Record<string, string> = {};
  if (authMethod === 'client_secret_basic') {
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before the Basic encoding.
    const pair = `${formEncode(options.clientId as string)}:${formEncode(options.clientSecret as string)}`;
    headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
  } else if (authMethod === 'client_secret_post') {
    credentials.client_id = options.clientId as string;
    credentials.client_secret = options.clientSecret as string;
  }

  function validate(doc: Record<string, unknown>): CacheEntry {
    const reject = (code: AuthErrorCode, description: string, claim?: string): CacheEntry => ({
      ok: false,
      error: new TokenRejectedError(code, description, { claim }),
    });
    if (doc.active !== true) return reject(AuthErrorCode.TokenInactive, 'The access token is not active');
    const t = now();
    const exp = doc.exp;
    if (exp !== undefined && (typeof exp !== 'number' || !Number.isFinite(exp))) {
      return reject(AuthErrorCode.InvalidClaim, 'The access token has a missing or invalid exp claim', 'exp');
    }
    if (exp === undefined && requireExp) {
      return reject(AuthErrorCode.InvalidClaim, 'The access token has a missing or invalid exp claim', 'exp');
    }
    if (typeof exp === 'number' && exp * 1000 + tolerance <= t) {
      return reject(AuthErrorCode.TokenExpired, 'The access token expired', 'exp');
    }
    const nbf = doc.nbf;
    if (typeof nbf === 'number' && nbf * 1000 - tolerance > t) {
      return reject(AuthErrorCode.TokenNotYetValid, 'The access token is not valid yet', 'nbf');
    }
    if (options.issuer !== undefined && doc.iss !== undefined && doc.iss !== options.issuer) {
      return reject(
        AuthErrorCode.IssuerMismatch,
        'The access token was issued by an unexpected issuer',
        'iss',
      );
    }
    if (audience !== undefined && doc.aud !== undefined) {
      const aud = typeof doc.aud === 'string' ? [doc.aud] : Array.isArray(doc.aud) ? doc.aud : [];
      if (!aud.some((a) => audience.includes(a as string))) {
        return reject(
          AuthErrorCode.AudienceMismatch,
          'The access token is not intended for this resource',
          'aud',
        );
      }
    }
    const { active: _active, ...claims } = doc;
    return { ok: true, claims: Object.freeze(claims) };
  }

  async function call(token: string, exchange?: Exchange): Promise<CacheEntry> {
    let url: string;
    try {
      url = await resolveUrl(exchange);
    } catch (cause) {
      if (cause instanceof AuthUnavailableError) throw cause;
      throw new AuthUnavailableError(AuthErrorCode.IntrospectionUnavailable, UNAVAILABLE, {
        cause,
        retryAfterSeconds,
      });
    }
    const body = new URLSearchParams({ token, token_type_hint: 'access_token', ...credentials }).toString();
    const res = await traceIdpCall(
      'introspection',
      url,
      exchange,
      () =>
        idpFetch(url, {
          method: 'POST',
          headers,
          body,
          fetch: fetchImpl,
          timeoutMs,
          maxBytes,
          signal: abort.signal,
          failureCode: AuthErrorCode.IntrospectionUnavailable,
          failureDescription: UNAVAILABLE,
          retryAfterSeconds,
        }),
      (r) => r.status,
    );
    if (!res.json) {
      throw new AuthUnavailableError(AuthErrorCode.IntrospectionUnavailable, UNAVAILABLE, {
        retryAfterSeconds,
        message: `${UNAVAILABLE} (HTTP ${res.status})`,
      });
    }
    return validate(res.json);
  }

  function settle(entry: CacheEntry): Readonly<Record<string, unknown>> {
    if (!entry.ok) throw entry.error;
    // Re-check expiry on every use: a cached result never outlives the token.
    const exp = entry.claims.exp;
    if (typeof exp === 'number' && exp * 1000 + tolerance <= now()) {
      throw new TokenRejectedError(AuthErrorCode.TokenExpired, 'The access token expired', { claim: 'exp' });
    }
    return entry.claims;
  }

  return {
    async introspect(token: string, exchange?: Exchange) {
      if (typeof token !== 'string' || token === '') {
        throw new TokenRejectedError(AuthErrorCode.MalformedToken, 'Malformed access token');
      }
      const key = tokenHash(token);
      const cached = cache.get(key);
      if (cached) {
        publishCacheLookup('introspection', 'hit');
        return settle(cached);
      }
      publishCacheLookup('introspection', 'miss');
      let pending = inflight.get(key);
      if (!pending) {
        pending = call(token, exchange)
          .then((entry) => {
            if (entry.ok) {
              const exp = entry.claims.exp;
              const untilExp = typeof exp === 'number' ? exp * 1000 - now() : maxTtl;
              cache.set(key, entry, Math.min(maxTtl, untilExp));
            } else {
              cache.set(key, entry, negativeTtl);
            }
            return entry;
          })
          .finally(() => inflight.delete(key));
        inflight.set(key, pending);
      }
      return settle(await pending);
    },
    get cacheSize() {
      return cache.size;
    },
    clear() {
      cache.clear();
    },
    close() {
      abort.abort();
    },
  };
}

function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}

function int(name: string, value: number | undefined, fallback: number, positive: boolean): number {
  if (value === undefined) return fallback;
  if (positive) assertPositiveInteger(name, value);
  else assertNonNegativeInteger(name, value);
  return value;
}
