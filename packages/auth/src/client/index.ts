/**
 * `@bastion-mcp/auth/client`: the OAuth client Bastion uses to log in to remote MCP servers.
 * See README.md in this directory.
 */
export { assertS256, discoverAuthorizationServer } from './authorization-server.js';
export type {
  AuthorizationServerDiscoveryOptions,
  AuthorizationServerMetadata,
  OAuthWarning,
} from './authorization-server.js';
export { CALLBACK_PORT_MAX, CALLBACK_PORT_MIN, callbackPortFor } from './callback-server.js';
export type { ClientOptions } from './client-registration.js';
export type { StaticClientOptions } from './client-auth.js';
export { loginWithClientCredentials } from './client-credentials.js';
export type { ClientCredentialsLoginOptions } from './client-credentials.js';
export type {
  ClientAssertionKeySpec,
  ClientIdentity,
  GrantType,
  TokenEndpointAuthMethod,
} from './credentials.js';
export { ID_JAG_TOKEN_TYPE, ID_TOKEN_TYPE, loginWithIdJag, TOKEN_EXCHANGE_GRANT } from './id-jag.js';
export type { IdJagIdpOptions, IdJagLoginOptions } from './id-jag.js';
export { JWT_BEARER_GRANT, loginWithJwtBearer, readAssertionFile } from './jwt-bearer.js';
export type { JwtBearerLoginOptions } from './jwt-bearer.js';
export { CLIENT_ASSERTION_ALGS, loadClientAssertionKey } from './private-key-jwt.js';
export type { ClientAssertionAlg } from './private-key-jwt.js';
export { detectRemoteAuth, resolveRemoteAuth } from './detect.js';
export type {
  DetectRemoteAuthOptions,
  DiscoveryOptions,
  RemoteAuthDetection,
  RemoteAuthRequirement,
} from './detect.js';
export {
  authorizationBaseUrl,
  defaultEndpointsMetadata,
  discoverLegacyAuthorizationServer,
} from './legacy-discovery.js';
export type { AuthDiscoveryMethod } from './legacy-discovery.js';
export { checkAuthorizationServer } from './authorization-server-change.js';
export type {
  AuthorizationServerChangeOptions,
  AuthorizationServerCheck,
} from './authorization-server-change.js';
export { DEVICE_CODE_GRANT, loginWithDeviceCode } from './device.js';
export {
  createDPoPProver,
  DPOP_ALG,
  DPOP_MODES,
  dpopAth,
  dpopHtu,
  isUseDPoPNonceChallenge,
  shouldUseDPoP,
  validateDPoPMode,
} from './dpop.js';
export type { DPoPMode, DPoPProver, StoredDPoPKey } from './dpop.js';
export type { DeviceCodeInfo, DeviceCodeLoginOptions } from './device.js';
export {
  isOAuthClientError,
  OAuthClientError,
  OAuthClientErrorCode,
  ReauthenticationRequiredError,
} from './errors.js';
export type { OAuthClientErrorOptions } from './errors.js';
export { discardTokens, forgetWorkload, getStoredGrantInfo } from './grant-info.js';
export type { StoredGrantInfo } from './grant-info.js';
export type { FetchLike } from './internal/http.js';
export {
  authorizationServerMetadataUrls,
  canonicalResourceUri,
  protectedResourceMetadataUrls,
  resourceMatchesServer,
} from './internal/url.js';
export { loginWithAuthorizationCode } from './login.js';
export type { AuthorizationCodeLoginOptions } from './login.js';
export type { LoginOptions, LoginResult } from './login-common.js';
export { discoverProtectedResource } from './protected-resource.js';
export { forgetRegistration } from './registration-management.js';
export type {
  ForgetRegistrationOptions,
  ForgetRegistrationResult,
  RegistrationDeletion,
} from './registration-management.js';
export type { ProtectedResourceMetadata } from './protected-resource.js';
export type { RetryOptions } from './backoff.js';
export { selectScopes, stepUpScopes } from './scopes.js';
export { OAuthSession } from './session.js';
export type {
  AccessTokenProvider,
  OAuthSessionOptions,
  OAuthSessionStatus,
  OAuthStatusChange,
} from './session.js';
export { createStaticTokenProvider, readBearerTokenFile } from './static-token.js';
export type { StaticTokenFileInfo } from './static-token.js';
export { createTokenStore } from './store/index.js';
export type { TokenStoreOptions } from './store/index.js';
export type { LockOptions, TokenStore } from './store/types.js';
export { parseBearerChallenge, parseWwwAuthenticate } from './www-authenticate.js';
export type { AuthChallenge, BearerChallenge } from './www-authenticate.js';
