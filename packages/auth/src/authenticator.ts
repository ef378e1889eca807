/**
 * The token authenticator: token → {@link Identity}, routing by token kind. JWT-looking tokens take
 * the JWT path when JWT validation is configured; every other token (and JWTs when only
 * introspection is configured) is introspected. Building block of {@link createAuthMiddleware}, usable
 * on its own.
 */
import type { Exchange, Identity, ReadinessStatus } from '@bastion-mcp/proxy-core';
import { type ClaimMapping, identityFromClaims, resolveClaimMapping } from './claims.js';
import { IssuerMetadataSource } from './discovery.js';
import { AuthErrorCode, AuthUnavailableError, TokenRejectedError } from './errors.js';
import { type IntrospectionAuthMethod, type Introspector, createIntrospector } from './introspection.js';
import type { FetchLike } from './internal/http.js';
import { assertNonEmptyString, assertStringArray, parseIdpUrl } from './internal/validate.js';
import { JwksCache } from './jwks-cache.js';
import { createJwtVerifier, type JwtVerifier } from './jwt-verifier.js';
import { looksLikeJwt } from './token-format.js';

export interface JwtValidationOptions {
  /** Accepted algorithms (asymmetric only). Default RS256/384/512, PS256/384/512, ES256/384/512, EdDSA. */
  readonly algorithms?: readonly string[];
  /** Required `typ` header, e.g. `'at+jwt'` (RFC 9068). Default: not checked. */
  readonly typ?: string | undefined;
  /** Claims that must be present besides `exp`. Default `[]`. */
  readonly requiredClaims?: readonly string[];
  /** How long a verified token is remembered (never past `exp`), ms; `0` disables. Default 60000. */
  readonly cacheTtlMs?: number;
  /** Most remembered verified tokens. Default 10000. */
  readonly cacheMaxEntries?: number;
}

export interface JwksOptions {
  /** Background refresh age, ms. Default 300000. */
  readonly refreshIntervalMs?: number;
  /** Minimum gap between unknown-`kid` refetches, ms. Default 30000. */
  readonly cooldownMs?: number;
  /** Wait after a failed fetch, ms. Default 2000. */
  readonly errorRetryMs?: number;
  /** Per-request timeout, ms. Default 5000. */
  readonly timeoutMs?: number;
  /** Largest JWKS document, bytes. Default 524288. */
  readonly maxBytes?: number;
}

export interface IntrospectionOptions {
  /** RFC 7662 endpoint. Default: the issuer's discovered `introspection_endpoint`. */
  readonly url?: string | undefined;
  readonly clientId?: string | undefined;
  /** The secret VALUE (apps read it from env or a file; never put it in RunConfig JSON). */
  readonly clientSecret?: string | undefined;
  /** Default `'client_secret_basic'`. */
  readonly authMethod?: IntrospectionAuthMethod;
  /** Refuse active results without `exp`. Default `true`. */
  readonly requireExp?: boolean;
  /** Default 60000. */
  readonly cacheMaxTtlMs?: number;
  /** Default 10000. */
  readonly negativeCacheTtlMs?: number;
  /** Default 10000. */
  readonly maxCacheEntries?: number;
  /** Default 5000. */
  readonly timeoutMs?: number;
  /** Default 5. */
  readonly retryAfterSeconds?: number;
}

export interface TokenAuthenticatorOptions {
  /** Expected `iss` of JWTs (exact) and the base of discovery. Required for JWT validation. */
  readonly issuer?: string | undefined;
  /** The audience tokens must carry (any one of). Required for JWT validation. */
  readonly audience?: string | readonly string[] | undefined;
  /** JWKS URL; default: discovered from `issuer` (OIDC Discovery, then RFC 8414). */
  readonly jwksUrl?: string | undefined;
  /** JWT validation settings, or `false` to accept opaque/introspected tokens only. */
  readonly jwt?: JwtValidationOptions | false | undefined;
  readonly jwks?: JwksOptions | undefined;
  /** Discovery settings (timeout and retry wait, ms). */
  readonly discovery?: { readonly timeoutMs?: number; readonly retryMs?: number } | undefined;
  /** Enables RFC 7662 introspection of opaque tokens. */
  readonly introspection?: IntrospectionOptions | undefined;
  /** Claim mapping (user id, name, email, groups, roles). */
  readonly claims?: ClaimMapping | undefined;
  /** Clock skew tolerated for `exp`/`nbf`, ms. Default 30000. */
  readonly clockToleranceMs?: number | undefined;
  /** Allow plain http IdP URLs for non-loopback hosts. Default `false`. */
  readonly allowInsecureHttp?: boolean | undefined;
  /** Fetch the JWKS right away (so `/ready` turns green without traffic). Default `true`. */
  readonly warmUp?: boolean | undefined;
  /** Custom fetch for every IdP call (custom CA, proxy). Default the global `fetch`. */
  readonly fetch?: FetchLike | undefined;
  /** Clock, epoch ms. Default `Date.now`. */
  readonly now?: (() => number) | undefined;
}

export interface TokenAuthenticator {
  /**
   * Validates a bearer token and returns the identity.
   *
   * @throws {TokenRejectedError} the token is not acceptable (401).
   * @throws {AuthUnavailableError} validity cannot be decided (503, fail closed).
   */
  authenticate(token: string, exchange?: Exchange): Promise<Identity>;
  /**
   * The identity of a JWT verified earlier and still valid (the verified-token cache, `exp`
   * re-checked), synchronously and without I/O; `undefined` when {@link authenticate} has to decide.
   * Whatever it returns, `authenticate` would return too.
   *
   * @throws {TokenRejectedError} like `authenticate` when the remembered token's claims name no user.
   */
  cachedIdentity(token: string): Identity | undefined;
  readiness(): ReadinessStatus;
  /** The JWKS cache, when JWT validation is on. */
  readonly jwks: JwksCache | undefined;
  /** The introspector, when introspection is on. */
  readonly introspector: Introspector | undefined;
  close(): void;
}

export function createTokenAuthenticator(options: TokenAuthenticatorOptions): TokenAuthenticator {
  if (options === null || typeof options !== 'object') throw new TypeError('"options" must be an object');
  const allowInsecureHttp = options.allowInsecureHttp ?? false;
  const mapping = resolveClaimMapping(options.claims);
  const clockToleranceMs = options.clockToleranceMs ?? 30_000;
  const now = options.now;
  const fetchImpl = options.fetch;
  const issuer = options.issuer;
  if (issuer !== undefined) parseIdpUrl('issuer', issuer, allowInsecureHttp);
  const audience =
    options.audience === undefined
      ? undefined
      : typeof options.audience === 'string'
        ? [options.audience]
        : [...options.audience];
  if (audience !== undefined) {
    assertStringArray('audience', audience);
    if (audience.length === 0) throw new TypeError('"audience" must not be empty');
  }

  const jwtEnabled = options.jwt !== false && (issuer !== undefined || options.jwksUrl !== undefined);
  if (jwtEnabled && issuer === undefined) throw new TypeError('"issuer" is required for JWT validation');
  if (jwtEnabled && audience === undefined) throw new TypeError('"audience" is required for JWT validation');
  if (!jwtEnabled && options.introspection === undefined) {
    throw new TypeError('configure JWT validation ("issuer") or "introspection" (or use anonymous mode)');
  }
  if (
    options.introspection !== undefined &&
    options.introspection.url === undefined &&
    issuer === undefined
  ) {
    throw new TypeError('"introspection.url" is required when no "issuer" is configured for discovery');
  }

  const needsDiscovery =
    issuer !== undefined &&
    ((jwtEnabled && options.jwksUrl === undefined) ||
      (options.introspection !== undefined && options.introspection.url === undefined));
  const discovery = needsDiscovery
    ? new IssuerMetadataSource({
        issuer: issuer as string,
        timeoutMs: options.discovery?.timeoutMs,
        retryMs: options.discovery?.retryMs,
        allowInsecureHttp,
        fetch: fetchImpl,
        now,
      })
    : undefined;

  let jwks: JwksCache | undefined;
  let verifier: JwtVerifier | undefined;
  if (jwtEnabled) {
    const jwtOptions = options.jwt || {};
    const jwksUrl =
      options.jwksUrl !== undefined
        ? options.jwksUrl
        : async (exchange?: Exchange): Promise<string> => {
            const metadata = await (discovery as IssuerMetadataSource).get(exchange);
            if (typeof metadata.jwks_uri !== 'string') {
              throw new AuthUnavailableError(
                AuthErrorCode.DiscoveryFailed,
                'The authorization server publishes no jwks_uri',
              );
            }
            return metadata.jwks_uri;
          };
    jwks = new JwksCache({ ...options.jwks, jwksUrl, allowInsecureHttp, fetch: fetchImpl, now });
    verifier = createJwtVerifier({
      ...jwtOptions,
      issuer: issuer as string,
      audience: audience as string[],
      keys: jwks,
      clockToleranceMs,
      now,
    });
  }

  let introspector: Introspector | undefined;
  if (options.introspection !== undefined) {
    const i = options.introspection;
    if (i.url !== undefined) assertNonEmptyString('introspection.url', i.url);
    introspector = createIntrospector({
      ...i,
      url:
        i.url ??
        (async (exchange?: Exchange): Promise<string> => {
          const metadata = await (discovery as IssuerMetadataSource).get(exchange);
          if (typeof metadata.introspection_endpoint !== 'string') {
            throw new AuthUnavailableError(
              AuthErrorCode.DiscoveryFailed,
              'The authorization server publishes no introspection_endpoint',
            );
          }
          return metadata.introspection_endpoint;
        }),
      issuer,
      audience,
      clockToleranceMs,
      allowInsecureHttp,
      fetch: fetchImpl,
      now,
    });
  }

  if (jwks && options.warmUp !== false) jwks.refresh().catch(() => {});

  // The verifier hands out the same payload object for a cached token, and the introspector the same
  // frozen claims object for a cached result, so the (frozen) identity is built once per validated
  // token instead of on every request (and authz's per-identity memo keeps hitting).
  const jwtIdentities = new WeakMap<object, Identity>();
  const opaqueIdentities = new WeakMap<object, Identity>();
  const jwtIdentity = (payload: object): Identity => {
    let identity = jwtIdentities.get(payload);
    if (identity === undefined) {
      identity = identityFromClaims(payload as Record<string, unknown>, mapping, 'jwt');
      jwtIdentities.set(payload, identity);
    }
    return identity;
  };
  // Only a token that passed verification is ever cached, and verification requires the compact JWS
  // shape, so a hit needs neither the shape check nor the header decode; dotless (opaque) tokens
  // cannot be in that cache and skip the lookup.
  const cachedIdentity = (token: string): Identity | undefined => {
    if (!verifier || typeof token !== 'string' || !token.includes('.')) return undefined;
    const hit = verifier.cached(token);
    return hit === undefined ? undefined : jwtIdentity(hit.payload);
  };

  return {
    jwks,
    introspector,
    cachedIdentity,
    async authenticate(token: string, exchange?: Exchange): Promise<Identity> {
      const cached = cachedIdentity(token);
      if (cached !== undefined) return cached;
      if (verifier && looksLikeJwt(token))
        return jwtIdentity((await verifier.verify(token, exchange)).payload);
      if (introspector) {
        const claims = await introspector.introspect(token, exchange);
        let identity = opaqueIdentities.get(claims);
        if (identity === undefined) {
          identity = identityFromClaims(claims, mapping, 'opaque');
          opaqueIdentities.set(claims, identity);
        }
        return identity;
      }
      throw new TokenRejectedError(AuthErrorCode.UnsupportedToken, 'Unsupported access token format');
    },
    readiness(): ReadinessStatus {
      if (jwks) return jwks.readiness();
      return { ready: true, detail: 'token introspection' };
    },
    close(): void {
      jwks?.close();
      introspector?.close();
      discovery?.close();
    },
  };
}
