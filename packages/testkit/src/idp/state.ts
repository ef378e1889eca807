import type { ClientMetadata } from 'oidc-provider';
import type { SigningKey } from './keys.js';
import type { MemoryStore } from './memory-adapter.js';

/** Claims of one account, released in ID tokens, userinfo and (by default) access tokens. */
export type AccountClaims = Record<string, unknown>;

export type AccessTokenFormat = 'jwt' | 'opaque';

/** A resource server (RFC 8707 resource indicator) known to the IdP. */
export interface ResourceConfig {
  /** The resource indicator; also the `aud` of its access tokens. */
  identifier: string;
  /** `'jwt'` (verify with the JWKS) or `'opaque'` (introspect). */
  format: AccessTokenFormat;
  /** Scopes this resource accepts; other requested scopes are dropped from its tokens. */
  scopes: string[];
  /** Access-token lifetime for this resource; default the IdP's `accessTokenTtlSeconds`. */
  ttlSeconds?: number;
}

/** Per-token data attached by `issueAccessToken` and the token-exchange grant. */
export interface TokenExtras {
  claims?: Record<string, unknown>;
  ttlSeconds?: number;
}

/** Mutable state shared by the provider configuration, the grants and the HTTP front. */
export interface IdpState {
  issuer: string;
  store: MemoryStore;
  accounts: Map<string, AccountClaims>;
  resources: Map<string, ResourceConfig>;
  scopes: string[];
  keys: { current: SigningKey; retained: SigningKey[] };
  clientMetadata: ClientMetadata[];
  cookieKeys: string[];
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  rotateRefreshTokens: boolean;
  includeAccountClaimsInAccessTokens: boolean;
  tokenExtras: WeakMap<object, TokenExtras>;
  /** When set, interactions complete as this account without showing the login form. */
  autoLogin: string | undefined;
  /** DPoP (RFC 9449) nonce secret; set only when the token endpoint requires nonces. */
  dpopNonceSecret?: Buffer | undefined;
}
