export { anonymousIdentity, createAnonymousAuthMiddleware } from './anonymous.js';
export type { AnonymousIdentityOptions } from './anonymous.js';
export { createTokenAuthenticator } from './authenticator.js';
export type {
  IntrospectionOptions,
  JwksOptions,
  JwtValidationOptions,
  TokenAuthenticator,
  TokenAuthenticatorOptions,
} from './authenticator.js';
export { DEFAULT_MAX_TOKEN_BYTES, extractBearerToken } from './bearer.js';
export {
  formatBearerChallenge,
  PROTECTED_RESOURCE_WELL_KNOWN,
  resourceMetadataPaths,
  resourceMetadataUrl,
} from './challenge.js';
export type { BearerChallenge } from './challenge.js';
export { getClaim, identityFromClaims, resolveClaimMapping, scopesFromClaims, stringList } from './claims.js';
export type { ClaimMapping, ResolvedClaimMapping } from './claims.js';
export { discoverAuthorizationServer, discoveryUrls, IssuerMetadataSource } from './discovery.js';
export type { AuthorizationServerMetadata, DiscoveryOptions } from './discovery.js';
export {
  AuthError,
  AuthErrorCode,
  AuthUnavailableError,
  InsufficientScopeError,
  TokenRejectedError,
} from './errors.js';
export { toProxyHttpError } from './http-errors.js';
export type { ChallengeContext } from './http-errors.js';
export type { FetchLike } from './internal/http.js';
export { createIntrospector } from './introspection.js';
export type { IntrospectionAuthMethod, Introspector, IntrospectorOptions } from './introspection.js';
export { JwksCache } from './jwks-cache.js';
export type { JwksCacheOptions, JwksCacheStatus } from './jwks-cache.js';
export {
  ASYMMETRIC_ALGORITHMS,
  createJwtVerifier,
  DEFAULT_ALGORITHMS,
  mapJoseError,
} from './jwt-verifier.js';
export type {
  AsymmetricAlgorithm,
  JwtVerifier,
  JwtVerifierOptions,
  KeySource,
  VerifiedJwt,
} from './jwt-verifier.js';
export { buildProtectedResourceMetadata, createProtectedResourceRoutes } from './metadata.js';
export type { ProtectedResourceMetadata, ProtectedResourceMetadataOptions } from './metadata.js';
export { createAuthMiddleware } from './middleware.js';
export type {
  AnonymousAuthMiddlewareOptions,
  AuthMiddleware,
  AuthMiddlewareOptions,
  OAuthAuthMiddlewareOptions,
} from './middleware.js';
export { decodeJwtHeader, looksLikeJwt } from './token-format.js';
