export { startTestIdp } from './test-idp.js';
export type {
  AuthorizeResult,
  HeadlessLoginOptions,
  HeadlessLoginResult,
  IdpEndpoint,
  IdpHits,
  IssueAccessTokenOptions,
  RecordedOAuthRequest,
  TestIdp,
  TestIdpOptions,
  TokenResponse,
} from './test-idp.js';
export { DEVICE_CODE_GRANT, TOKEN_EXCHANGE_GRANT } from './clients.js';
export type { ClientAuthMethod, TestClient, TestClients } from './clients.js';
export type { AccessTokenFormat, AccountClaims, ResourceConfig } from './state.js';
export { ACCESS_TOKEN_TYPE, ID_TOKEN_TYPE, JWT_TOKEN_TYPE } from './token-exchange.js';
export { ENDPOINT_FAULTS } from './faults.js';
export type { EndpointFault } from './faults.js';
export { MINT_ALGS, startTokenMinter } from './token-minter.js';
export type { MintAlg, MintOptions, TokenMinter, TokenMinterOptions } from './token-minter.js';
export { oauthPost } from './oauth-post.js';
export type { OAuthPostResult } from './oauth-post.js';
export { AssertionGrants, ID_JAG_TOKEN_TYPE, JWT_BEARER_GRANT } from './assertion-grants.js';
