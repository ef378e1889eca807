/**
 * Authorization-server metadata discovery: OpenID Connect Discovery 1.0
 * (`<issuer>/.well-known/openid-configuration`) first, then RFC 8414
 * (`<origin>/.well-known/oauth-authorization-server<issuer path>`). The document's `issuer` must
 * equal the configured issuer exactly (RFC 8414 §3.3), or the document is refused.
 *
 * {@link IssuerMetadataSource} caches the document for the process lifetime, shares one request in
 * flight between concurrent callers and, after a failure, waits `retryMs` before trying again.
 */
import { type Exchange, traceIdpCall } from '@bastion-mcp/proxy-core';
import { AuthErrorCode, AuthUnavailableError } from './errors.js';
import { type FetchLike, idpFetch } from './internal/http.js';
import { assertNonNegativeInteger, assertPositiveInteger, parseIdpUrl } from './internal/validate.js';

export interface AuthorizationServerMetadata {
  readonly issuer: string;
  readonly jwks_uri?: string | undefined;
  readonly introspection_endpoint?: string | undefined;
  readonly token_endpoint?: string | undefined;
  readonly [key: string]: unknown;
}

export interface DiscoveryOptions {
  /** The issuer identifier to discover (exact, as in the tokens' `iss`). */
  readonly issuer: string;
  /** Per-request timeout, ms. Default 5000. */
  readonly timeoutMs?: number;
  /** Wait after a failed discovery before the next attempt, ms. Default 5000. */
  readonly retryMs?: number;
  /** Allow plain http for non-loopback hosts. Default `false`. */
  readonly allowInsecureHttp?: boolean;
  /** Custom fetch (custom CA, proxy, tests). Default the global `fetch`. */
  readonly fetch?: FetchLike;
  /** Clock, epoch ms. Default `Date.now`. */
  readonly now?: () => number;
}

const MAX_METADATA_BYTES = 256 * 1024;
const DESCRIPTION = 'The authorization server metadata is unavailable';

/** The discovery URLs tried for `issuer`, in order. */
export function discoveryUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return [
    `${url.origin}${path}/.well-known/openid-configuration`,
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
  ];
}

/**
 * Fetches and validates the metadata of `issuer` once (no caching; see {@link IssuerMetadataSource}).
 *
 * @throws {AuthUnavailableError} `ERR_BASTION_AUTH_DISCOVERY_FAILED` (or `…_IDP_TIMEOUT`,
 *   `…_IDP_RESPONSE_INVALID`).
 */
export async function discoverAuthorizationServer(
  options: DiscoveryOptions & { signal?: AbortSignal | undefined; exchange?: Exchange | undefined },
): Promise<AuthorizationServerMetadata> {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const allowHttp = options.allowInsecureHttp ?? false;
  let lastError: unknown;
  for (const url of discoveryUrls(options.issuer)) {
    try {
      const res = await traceIdpCall(
        'discovery',
        url,
        options.exchange,
        () =>
          idpFetch(url, {
            fetch: fetchImpl,
            timeoutMs: options.timeoutMs ?? 5000,
            maxBytes: MAX_METADATA_BYTES,
            signal: options.signal,
            failureCode: AuthErrorCode.DiscoveryFailed,
            failureDescription: DESCRIPTION,
          }),
        (r) => r.status,
      );
      if (res.json === undefined) {
        lastError = new Error(`HTTP ${res.status}`);
        continue;
      }
      return validateMetadata(res.json, options.issuer, allowHttp);
    } catch (err) {
      lastError = err;
    }
  }
  if (lastError instanceof AuthUnavailableError) throw lastError;
  throw new AuthUnavailableError(AuthErrorCode.DiscoveryFailed, DESCRIPTION, { cause: lastError });
}

function validateMetadata(
  doc: Record<string, unknown>,
  issuer: string,
  allowHttp: boolean,
): AuthorizationServerMetadata {
  if (doc.issuer !== issuer) {
    throw new AuthUnavailableError(AuthErrorCode.DiscoveryFailed, DESCRIPTION, {
      message: `${DESCRIPTION} (the document's issuer does not match)`,
    });
  }
  for (const field of ['jwks_uri', 'introspection_endpoint', 'token_endpoint']) {
    const value = doc[field];
    if (value === undefined) continue;
    try {
      parseIdpUrl(field, value, allowHttp);
    } catch (cause) {
      throw new AuthUnavailableError(AuthErrorCode.IdpResponseInvalid, DESCRIPTION, {
        cause,
        message: `${DESCRIPTION} (invalid ${field})`,
      });
    }
  }
  return doc as AuthorizationServerMetadata;
}

/** A cached, single-flight source of one issuer's metadata. */
export class IssuerMetadataSource {
  readonly issuer: string;
  readonly #options: DiscoveryOptions;
  readonly #now: () => number;
  readonly #retryMs: number;
  readonly #abort = new AbortController();
  #metadata: AuthorizationServerMetadata | undefined;
  #inflight: Promise<AuthorizationServerMetadata> | undefined;
  #lastFailure: { at: number; error: unknown } | undefined;

  constructor(options: DiscoveryOptions) {
    parseIdpUrl('issuer', options.issuer, options.allowInsecureHttp ?? false);
    if (options.timeoutMs !== undefined) assertPositiveInteger('timeoutMs', options.timeoutMs);
    if (options.retryMs !== undefined) assertNonNegativeInteger('retryMs', options.retryMs);
    this.issuer = options.issuer;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#retryMs = options.retryMs ?? 5000;
  }

  /** The cached metadata, if discovery succeeded already. */
  get current(): AuthorizationServerMetadata | undefined {
    return this.#metadata;
  }

  /**
   * The metadata, discovering it when needed.
   *
   * @throws {AuthUnavailableError} while discovery fails (re-attempted at most once per `retryMs`).
   */
  async get(exchange?: Exchange): Promise<AuthorizationServerMetadata> {
    if (this.#metadata) return this.#metadata;
    if (this.#inflight) return this.#inflight;
    if (this.#lastFailure && this.#now() - this.#lastFailure.at < this.#retryMs) {
      throw this.#lastFailure.error;
    }
    this.#inflight = discoverAuthorizationServer({ ...this.#options, signal: this.#abort.signal, exchange })
      .then((metadata) => {
        this.#metadata = metadata;
        this.#lastFailure = undefined;
        return metadata;
      })
      .catch((error: unknown) => {
        this.#lastFailure = { at: this.#now(), error };
        throw error;
      })
      .finally(() => {
        this.#inflight = undefined;
      });
    return this.#inflight;
  }

  /** Aborts a discovery in flight. */
  close(): void {
    this.#abort.abort();
  }
}
