/**
 * The `auth` middleware: bearer extraction, token validation (JWT or introspection), claim mapping,
 * required scopes, and the RFC 9728 metadata routes. On success the exchange gets `identity` and
 * `inboundToken` (the raw token, memory only, for token exchange); on failure the request stops
 * here with 401/403/503 and `notes.rejectedBy = 'auth'`.
 */
import type { Exchange, Identity, Middleware } from '@bastion-mcp/proxy-core';
import { type AnonymousIdentityOptions, createAnonymousAuthMiddleware } from './anonymous.js';
import {
  createTokenAuthenticator,
  type TokenAuthenticator,
  type TokenAuthenticatorOptions,
} from './authenticator.js';
import { assertB64Token, bearerCredential, DEFAULT_MAX_TOKEN_BYTES } from './bearer.js';
import { resourceMetadataUrl } from './challenge.js';
import { AuthError, InsufficientScopeError } from './errors.js';
import { type ChallengeContext, toProxyHttpError } from './http-errors.js';
import { assertNonEmptyString, assertPositiveInteger, assertStringArray } from './internal/validate.js';
import { createProtectedResourceRoutes } from './metadata.js';

export interface OAuthAuthMiddlewareOptions extends TokenAuthenticatorOptions {
  /** `'oauth'` (default): validate bearer tokens. */
  readonly mode?: 'oauth' | undefined;
  /**
   * The RFC 9728 resource identifier: the public URL of the proxied MCP endpoint
   * (e.g. `https://mcp.example.com/mcp`). Also the default `audience`.
   */
  readonly resource: string;
  /** `realm` of the challenges. Default the `issuer`, else `'bastion'`. */
  readonly realm?: string | undefined;
  /** Scopes advertised in the metadata (`scopes_supported`) and in 401 challenges (`scope=`). Default `[]`. */
  readonly scopesSupported?: readonly string[] | undefined;
  /** Scopes every token must carry (all of them), else 403 `insufficient_scope`. Default `[]`. */
  readonly requiredScopes?: readonly string[] | undefined;
  /** `authorization_servers` of the metadata. Default `[issuer]` (or `[]` without an issuer). */
  readonly authorizationServers?: readonly string[] | undefined;
  /** `resource_name` of the metadata. */
  readonly resourceName?: string | undefined;
  /** Overrides the `resource_metadata` URL of the challenges. Default derived from `resource` (RFC 9728 §3.1). */
  readonly resourceMetadataUrl?: string | undefined;
  /** Serve the RFC 9728 metadata routes. Default `true`. */
  readonly serveMetadata?: boolean | undefined;
  /** Tokens longer than this are refused before any parsing, bytes. Default 16384. */
  readonly maxTokenBytes?: number | undefined;
}

export interface AnonymousAuthMiddlewareOptions {
  /** Explicit opt-in to accept every request with a local identity. */
  readonly mode: 'anonymous';
  readonly anonymous?: AnonymousIdentityOptions | undefined;
}

export type AuthMiddlewareOptions = OAuthAuthMiddlewareOptions | AnonymousAuthMiddlewareOptions;

/** The auth middleware plus access to its building blocks (for tests, readiness and tooling). */
export interface AuthMiddleware extends Middleware {
  readonly name: 'auth';
  /** The authenticator, absent in anonymous mode. */
  readonly authenticator: TokenAuthenticator | undefined;
}

/**
 * Creates the `auth` middleware.
 *
 * @throws {TypeError} for invalid options (the message names the option).
 * @example
 * const auth = createAuthMiddleware({
 *   issuer: 'https://idp.example.com',
 *   resource: 'https://mcp.example.com/mcp',
 *   scopesSupported: ['mcp:tools'],
 * });
 */
export function createAuthMiddleware(options: AuthMiddlewareOptions): AuthMiddleware {
  if (options === null || typeof options !== 'object') throw new TypeError('"options" must be an object');
  if (options.mode === 'anonymous') {
    return { ...createAnonymousAuthMiddleware(options.anonymous), name: 'auth', authenticator: undefined };
  }
  if (options.mode !== undefined && options.mode !== 'oauth') {
    throw new TypeError('"mode" must be "oauth" or "anonymous"');
  }
  assertNonEmptyString('resource', options.resource);
  try {
    new URL(options.resource);
  } catch {
    throw new TypeError('"resource" must be an absolute URL');
  }
  const scopesSupported = options.scopesSupported ?? [];
  assertStringArray('scopesSupported', scopesSupported);
  const requiredScopes = options.requiredScopes ?? [];
  assertStringArray('requiredScopes', requiredScopes);
  const maxTokenBytes = options.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES;
  assertPositiveInteger('maxTokenBytes', maxTokenBytes);
  if (options.realm !== undefined) assertNonEmptyString('realm', options.realm);
  if (options.resourceMetadataUrl !== undefined)
    assertNonEmptyString('resourceMetadataUrl', options.resourceMetadataUrl);

  const authenticator = createTokenAuthenticator({
    ...options,
    audience: options.audience ?? options.resource,
  });

  const challenge: ChallengeContext = {
    realm: options.realm ?? options.issuer ?? 'bastion',
    resourceMetadata: options.resourceMetadataUrl ?? resourceMetadataUrl(options.resource),
    scope: scopesSupported.length > 0 ? scopesSupported.join(' ') : undefined,
  };
  const routes =
    options.serveMetadata === false
      ? undefined
      : createProtectedResourceRoutes({
          resource: options.resource,
          authorizationServers: options.authorizationServers ?? (options.issuer ? [options.issuer] : []),
          scopesSupported,
          resourceName: options.resourceName,
        });

  const authenticate = (token: string, exchange: Exchange): Promise<Identity> => {
    assertB64Token(token);
    return authenticator.authenticate(token, exchange);
  };

  return {
    name: 'auth',
    authenticator,
    routes,
    async handle(exchange, next) {
      try {
        // extractBearerToken in two steps: a token found among verified ones is a b64token already.
        const token = bearerCredential(exchange.request.headers.authorization, maxTokenBytes);
        const identity = authenticator.cachedIdentity(token) ?? (await authenticate(token, exchange));
        if (requiredScopes.length > 0 && !requiredScopes.every((s) => identity.scopes.includes(s))) {
          throw new InsufficientScopeError(requiredScopes);
        }
        exchange.identity = identity;
        exchange.inboundToken = token;
        exchange.notes.auth = { tokenKind: identity.tokenKind };
      } catch (err) {
        exchange.notes.rejectedBy = 'auth';
        if (err instanceof AuthError) exchange.notes.auth = { outcome: 'rejected', reason: err.code };
        throw toProxyHttpError(err, challenge);
      }
      return next();
    },
    readiness() {
      return authenticator.readiness();
    },
    async close() {
      authenticator.close();
    },
  };
}
