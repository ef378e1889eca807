/**
 * A JWKS cache shared by every request:
 * - the key set is fetched once and reused; when older than `refreshIntervalMs` it is refreshed in
 *   the background while the cached keys keep serving (stale-while-revalidate, no timers);
 * - a token whose `kid`/`alg` matches no cached key triggers ONE refetch, at most once per
 *   `cooldownMs` (a flood of forged kids costs the IdP one request per cooldown);
 * - concurrent callers share one fetch in flight, and a failed fetch is not retried before
 *   `errorRetryMs`;
 * - when the endpoint is down the cached keys keep working and {@link JwksCache.readiness} says so;
 * - private keys, symmetric keys and keys of the wrong type for the token's `alg` never match.
 */
import {
  type Exchange,
  publishCacheLookup,
  type ReadinessStatus,
  traceIdpCall,
} from '@bastion-mcp/proxy-core';
import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWSHeaderParameters } from 'jose';
import { AuthErrorCode, AuthUnavailableError, TokenRejectedError } from './errors.js';
import { type FetchLike, idpFetch } from './internal/http.js';
import { assertNonNegativeInteger, assertPositiveInteger, parseIdpUrl } from './internal/validate.js';

export interface JwksCacheOptions {
  /**
   * The JWKS URL, or a function resolving it (e.g. from discovery; called until it succeeds once).
   */
  readonly jwksUrl: string | ((exchange?: Exchange) => Promise<string>);
  /** Age after which the key set is refreshed in the background, ms. Default 300000 (5 min). */
  readonly refreshIntervalMs?: number;
  /** Minimum time between two fetches caused by an unknown `kid`, ms. Default 30000. */
  readonly cooldownMs?: number;
  /** Wait after a failed fetch before the next attempt, ms. Default 2000. */
  readonly errorRetryMs?: number;
  /** Per-request timeout, ms. Default 5000. */
  readonly timeoutMs?: number;
  /** Largest accepted JWKS document, bytes. Default 524288 (512 KiB). */
  readonly maxBytes?: number;
  /** Allow plain http for non-loopback hosts. Default `false`. */
  readonly allowInsecureHttp?: boolean;
  /** Custom fetch (custom CA, proxy, tests). Default the global `fetch`. */
  readonly fetch?: FetchLike;
  /** Clock, epoch ms. Default `Date.now`. */
  readonly now?: () => number;
}

/** A snapshot of the cache state, for readiness and diagnostics. */
export interface JwksCacheStatus {
  /** `true` once a key set was fetched successfully. */
  readonly loaded: boolean;
  readonly keyCount: number;
  /** Epoch ms of the last successful fetch. */
  readonly lastSuccessAt?: number | undefined;
  /** Epoch ms and error code of the last failed fetch, when the last attempt failed. */
  readonly lastFailureAt?: number | undefined;
  readonly lastErrorCode?: string | undefined;
  /** Number of fetches attempted so far. */
  readonly fetches: number;
}

type KeyResolver = ReturnType<typeof createLocalJWKSet>;
type VerificationKey = Awaited<ReturnType<KeyResolver>>;

const DESCRIPTION = 'The signing keys of the authorization server are unavailable';

export class JwksCache {
  readonly #resolveUrl: (exchange?: Exchange) => Promise<string>;
  readonly #refreshIntervalMs: number;
  readonly #cooldownMs: number;
  readonly #errorRetryMs: number;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #allowHttp: boolean;
  readonly #fetch: FetchLike;
  readonly #now: () => number;
  readonly #abort = new AbortController();
  #keys: KeyResolver | undefined;
  #keyCount = 0;
  #lastSuccessAt: number | undefined;
  #lastAttemptAt: number | undefined;
  #lastFailure: { at: number; error: unknown } | undefined;
  #inflight: Promise<void> | undefined;
  #fetches = 0;
  #closed = false;

  constructor(options: JwksCacheOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('"options" must be an object');
    this.#allowHttp = options.allowInsecureHttp ?? false;
    const { jwksUrl } = options;
    if (typeof jwksUrl === 'function') {
      this.#resolveUrl = jwksUrl;
    } else {
      const url = parseIdpUrl('jwksUrl', jwksUrl, this.#allowHttp).toString();
      this.#resolveUrl = () => Promise.resolve(url);
    }
    this.#refreshIntervalMs = optionalInt('refreshIntervalMs', options.refreshIntervalMs, 300_000, true);
    this.#cooldownMs = optionalInt('cooldownMs', options.cooldownMs, 30_000, false);
    this.#errorRetryMs = optionalInt('errorRetryMs', options.errorRetryMs, 2_000, false);
    this.#timeoutMs = optionalInt('timeoutMs', options.timeoutMs, 5_000, true);
    this.#maxBytes = optionalInt('maxBytes', options.maxBytes, 512 * 1024, true);
    if (options.fetch !== undefined && typeof options.fetch !== 'function') {
      throw new TypeError('"fetch" must be a function');
    }
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#now = options.now ?? Date.now;
  }

  /** Current state (never contains keys or URLs with secrets). */
  status(): JwksCacheStatus {
    return {
      loaded: this.#keys !== undefined,
      keyCount: this.#keyCount,
      lastSuccessAt: this.#lastSuccessAt,
      lastFailureAt: this.#lastFailure?.at,
      lastErrorCode: this.#lastFailure ? errorCode(this.#lastFailure.error) : undefined,
      fetches: this.#fetches,
    };
  }

  /**
   * Readiness: ready once a key set was fetched. When later refreshes fail the cache stays ready
   * (its keys still verify tokens) and the detail reports the failure. Calling it also starts a
   * background refresh when the keys are stale or missing.
   */
  readiness(): ReadinessStatus {
    this.#maybeBackgroundRefresh();
    if (!this.#keys) {
      return {
        ready: false,
        detail: this.#lastFailure
          ? `JWKS fetch failing (${errorCode(this.#lastFailure.error)})`
          : 'JWKS not fetched yet',
      };
    }
    if (this.#lastFailure) {
      return {
        ready: true,
        detail: `JWKS refresh failing since ${new Date(this.#lastFailure.at).toISOString()} (${errorCode(this.#lastFailure.error)}); serving ${this.#keyCount} cached key(s)`,
      };
    }
    return { ready: true, detail: `JWKS: ${this.#keyCount} key(s)` };
  }

  /**
   * Fetches the key set now (shared with any fetch in flight).
   *
   * @throws {AuthUnavailableError} when the fetch fails (the previous keys stay cached).
   */
  refresh(exchange?: Exchange): Promise<void> {
    if (this.#closed)
      return Promise.reject(new AuthUnavailableError(AuthErrorCode.JwksUnavailable, DESCRIPTION));
    if (this.#inflight) return this.#inflight;
    this.#lastAttemptAt = this.#now();
    this.#fetches++;
    this.#inflight = this.#load(exchange)
      .then(
        ({ resolver, count }) => {
          this.#keys = resolver;
          this.#keyCount = count;
          this.#lastSuccessAt = this.#now();
          this.#lastFailure = undefined;
        },
        (error: unknown) => {
          this.#lastFailure = { at: this.#now(), error };
          throw error;
        },
      )
      .finally(() => {
        this.#inflight = undefined;
      });
    return this.#inflight;
  }

  /**
   * The verification key for a JWS header: a jose key-resolver function.
   *
   * @throws {TokenRejectedError} `ERR_BASTION_AUTH_UNKNOWN_SIGNING_KEY` when no key matches, even
   *   after the one allowed refetch.
   * @throws {AuthUnavailableError} `ERR_BASTION_AUTH_JWKS_UNAVAILABLE` when no key set was ever
   *   fetched and the endpoint is failing.
   */
  async getKey(header: JWSHeaderParameters, exchange?: Exchange): Promise<VerificationKey> {
    if (!this.#keys) {
      publishCacheLookup('jwks', 'miss');
      await this.#ensureLoaded(exchange);
    } else {
      this.#maybeBackgroundRefresh();
    }
    try {
      const key = await this.#select(header);
      publishCacheLookup('jwks', 'hit');
      return key;
    } catch (err) {
      if (!(err instanceof joseErrors.JWKSNoMatchingKey)) throw mapSelectError(err);
    }
    publishCacheLookup('jwks', 'miss');
    const last = this.#lastAttemptAt ?? Number.NEGATIVE_INFINITY;
    if (this.#inflight) {
      await this.#inflight.catch(() => {});
    } else if (this.#now() - last >= this.#cooldownMs) {
      await this.refresh(exchange).catch(() => {});
    }
    try {
      return await this.#select(header);
    } catch (err) {
      throw mapSelectError(err);
    }
  }

  /** Stops using the network: aborts fetches in flight; later fetches fail. */
  close(): void {
    this.#closed = true;
    this.#abort.abort();
  }

  async #ensureLoaded(exchange?: Exchange): Promise<void> {
    if (this.#inflight) {
      await this.#inflight.catch(() => {});
    } else if (!this.#lastFailure || this.#now() - this.#lastFailure.at >= this.#errorRetryMs) {
      await this.refresh(exchange).catch(() => {});
    }
    if (!this.#keys) {
      throw new AuthUnavailableError(AuthErrorCode.JwksUnavailable, DESCRIPTION, {
        cause: this.#lastFailure?.error,
        retryAfterSeconds: Math.max(1, Math.ceil(this.#errorRetryMs / 1000)),
      });
    }
  }

  #select(header: JWSHeaderParameters): Promise<VerificationKey> {
    const keys = this.#keys;
    if (!keys) throw new joseErrors.JWKSNoMatchingKey();
    return keys(header);
  }

  #maybeBackgroundRefresh(): void {
    if (this.#closed || this.#inflight) return;
    const now = this.#now();
    if (this.#lastFailure && now - this.#lastFailure.at < this.#errorRetryMs) return;
    const stale = this.#lastSuccessAt === undefined || now - this.#lastSuccessAt >= this.#refreshIntervalMs;
    if (stale) this.refresh().catch(() => {});
  }

  async #load(exchange?: Exchange): Promise<{ resolver: KeyResolver; count: number }> {
    let url: string;
    try {
      url = await this.#resolveUrl(exchange);
      parseIdpUrl('jwks_uri', url, this.#allowHttp);
    } catch (cause) {
      if (cause instanceof AuthUnavailableError) throw cause;
      throw new AuthUnavailableError(AuthErrorCode.JwksUnavailable, DESCRIPTION, { cause });
    }
    const res = await traceIdpCall(
      'jwks',
      url,
      exchange,
      () =>
        idpFetch(url, {
          fetch: this.#fetch,
          timeoutMs: this.#timeoutMs,
          maxBytes: this.#maxBytes,
          signal: this.#abort.signal,
          failureCode: AuthErrorCode.JwksUnavailable,
          failureDescription: DESCRIPTION,
        }),
      (r) => r.status,
    );
    if (!res.json) {
      throw new AuthUnavailableError(AuthErrorCode.JwksUnavailable, DESCRIPTION, {
        message: `${DESCRIPTION} (HTTP ${res.status})`,
      });
    }
    const keys = res.json.keys;
    if (!Array.isArray(keys)) {
      throw new AuthUnavailableError(AuthErrorCode.IdpResponseInvalid, DESCRIPTION, {
        message: `${DESCRIPTION} (the document has no "keys" array)`,
      });
    }
    // Keep only well-formed asymmetric public keys: a JWKS entry with a private or symmetric part is
    // never used for verification.
    const usable = keys.filter(
      (k): k is Record<string, unknown> =>
        typeof k === 'object' &&
        k !== null &&
        !Array.isArray(k) &&
        (k.kty === 'RSA' || k.kty === 'EC' || k.kty === 'OKP') &&
        k.d === undefined &&
        k.p === undefined &&
        k.k === undefined,
    );
    try {
      return { resolver: createLocalJWKSet({ keys: usable } as JSONWebKeySet), count: usable.length };
    } catch (cause) {
      throw new AuthUnavailableError(AuthErrorCode.IdpResponseInvalid, DESCRIPTION, { cause });
    }
  }
}

function mapSelectError(err: unknown): unknown {
  if (err instanceof TokenRejectedError || err instanceof AuthUnavailableError) return err;
  if (err instanceof joseErrors.JWKSNoMatchingKey) {
    return new TokenRejectedError(
      AuthErrorCode.UnknownSigningKey,
      'The token was signed with an unknown key',
      {
        cause: err,
      },
    );
  }
  if (err instanceof joseErrors.JWKSMultipleMatchingKeys) return err; // the verifier tries each one
  return new TokenRejectedError(AuthErrorCode.AlgorithmNotAllowed, 'The token algorithm is not supported', {
    cause: err,
  });
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : 'ERR_UNKNOWN';
}

function optionalInt(name: string, value: number | undefined, fallback: number, positive: boolean): number {
  if (value === undefined) return fallback;
  if (positive) assertPositiveInteger(name, value);
  else assertNonNegativeInteger(name, value);
  return value;
}
