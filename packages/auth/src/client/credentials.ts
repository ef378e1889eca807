/** The persisted grant of a workload and the cached client registrations, as stored in the token store. */
import { createHash } from 'node:crypto';
import type { AuthorizationServerMetadata } from './authorization-server.js';
import type { StoredDPoPKey } from './dpop.js';
import { OAuthClientError, OAuthClientErrorCode } from './errors.js';
import type { TokenStore } from './store/types.js';

export type TokenEndpointAuthMethod =
  | 'none'
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'private_key_jwt';
/** `jwt_bearer`: RFC 7523 §2.1 with a workload JWT; `id_jag`: SEP-990 token exchange at an enterprise IdP + jwt-bearer. */
export type GrantType = 'authorization_code' | 'device_code' | 'client_credentials' | 'jwt_bearer' | 'id_jag';

/**
 * Where a `private_key_jwt` client's signing key lives. Only the path is stored: the key is read
 * at every token request and never copied into the store.
 */
export interface ClientAssertionKeySpec {
  /** PEM (PKCS#8, SEC1 or PKCS#1) or JWK (JSON) private key file. */
  keyFile: string;
  /** JWS algorithm; default from the key (`ES256` for P-256, `RS256` for RSA, `EdDSA` for Ed25519, …). */
  alg?: string | undefined;
  /** `kid` header of the client assertion; default the JWK's `kid`, else none. */
  kid?: string | undefined;
}

/** The enterprise IdP step of an `id_jag` grant (SEP-990), as stored with the grant. */
export interface StoredIdJag {
  /** The IdP's token endpoint and issuer (the `aud` of `private_key_jwt` assertions sent to it). */
  idp: { issuer: string; tokenEndpoint: string };
  /** The client at the IdP (its secret, when any, is stored here like the AS client's). */
  idpClient: ClientIdentity;
  /** The user's ID token file, re-read at every exchange (the IdP sign-in may refresh it). */
  idTokenFile: string;
  /** `audience` of the exchange: the MCP server's authorization server issuer. */
  audience: string;
  /** `resource` of the exchange: the MCP server (RFC 9728 resource). */
  resource: string;
}

/** The client identity a grant was obtained with. */
export interface ClientIdentity {
  /** Empty for a grant sent without client identification (`jwt_bearer` without a client id). */
  clientId: string;
  clientSecret?: string | undefined;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  /** `static` (pre-registered), `cimd` (Client ID Metadata Document URL) or `dcr` (RFC 7591). */
  source: 'static' | 'cimd' | 'dcr';
  /** `private_key_jwt` only: the signing key (path, never the key). */
  assertionKey?: ClientAssertionKeySpec | undefined;
}

export interface StoredTokens {
  accessToken: string;
  tokenType: string;
  /** Epoch ms; absent when the AS sent no `expires_in`. */
  expiresAt?: number | undefined;
  refreshToken?: string | undefined;
}

/** One stable entry per workload (`tokens:<name>`), updated in place. */
export interface StoredGrant {
  version: 1;
  workload: string;
  serverUrl: string;
  grantType: GrantType;
  authorizationServer: AuthorizationServerMetadata;
  client: ClientIdentity;
  /** The RFC 8707 resource sent; absent when it is not sent (opt-out or `invalid_target` fallback). */
  resource?: string | undefined;
  /** Scopes requested. */
  scopes?: string[] | undefined;
  /** Scopes granted (the token response `scope`, else the requested ones). */
  grantedScopes?: string[] | undefined;
  tokens?: StoredTokens | undefined;
  /**
   * Where the remote's PRM was found at login, so a later 401 re-discovers from the same place
   * (authorization server migration). Absent for a 2025-03-26 remote without PRM.
   */
  resourceMetadataUrl?: string | undefined;
  /**
   * Set when the AS was found by the MCP 2025-03-26 fallback (no PRM): `legacy-metadata` or
   * `legacy-default-endpoints`. Absent when it came from the PRM.
   */
  discovery?: 'legacy-metadata' | 'legacy-default-endpoints' | undefined;
  /** `jwt_bearer` only: the workload JWT file, re-read at every token request (never its content). */
  assertionFile?: string | undefined;
  /** `id_jag` only: the enterprise IdP step, repeated with the AS grant at every expiry. */
  idJag?: StoredIdJag | undefined;
  /**
   * DPoP (RFC 9449): the key the tokens are bound to (`tokens.tokenType` `dpop`), made at login and
   * reused for every refresh. A secret, like the tokens: never logged or shown.
   */
  dpop?: StoredDPoPKey | undefined;
  updatedAt: number;
}

/** A cached RFC 7591 registration (`client:<hash of issuer>`), reused for later logins. */
export interface StoredRegistration {
  version: 1;
  issuer: string;
  clientId: string;
  clientSecret?: string | undefined;
  /** Epoch ms; 0 or absent = never expires. */
  clientSecretExpiresAt?: number | undefined;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  redirectUris: string[];
  grantTypes: string[];
  /**
   * The `scope` the client was registered with (as returned, else as requested); absent when none
   * was. ASes may restrict the client to it, so a login needing more scopes registers again.
   */
  scopes?: string[] | undefined;
  registeredAt: number;
  /**
   * RFC 7592 management: the `registration_client_uri` the AS returned (kept only when it is a
   * secure URL on the registration endpoint's origin) and its `registration_access_token` (a secret:
   * stored, never logged). Absent when the AS does not support registration management.
   */
  registrationClientUri?: string | undefined;
  registrationAccessToken?: string | undefined;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function assertWorkloadName(name: unknown, option = 'name'): asserts name is string {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new TypeError(`"${option}" must be a workload name matching ${NAME_RE}`);
  }
}

export function grantKey(name: string): string {
  return `tokens:${name}`;
}

export function registrationKey(issuer: string): string {
  return `client:${createHash('sha256').update(issuer.replace(/\/+$/, '')).digest('hex').slice(0, 32)}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export async function loadGrant(store: TokenStore, name: string): Promise<StoredGrant | undefined> {
  const value = await store.get(grantKey(name));
  if (value === undefined) return undefined;
  if (
    !isObject(value) ||
    value['version'] !== 1 ||
    !isObject(value['client']) ||
    !isObject(value['authorizationServer'])
  ) {
    throw new OAuthClientError(
      OAuthClientErrorCode.Store,
      `The stored grant of "${name}" has an unknown format`,
    );
  }
  return value as unknown as StoredGrant;
}

export async function saveGrant(store: TokenStore, grant: StoredGrant): Promise<void> {
  await store.set(grantKey(grant.workload), { ...grant, updatedAt: Date.now() });
}

/**
 * Deletes everything stored for a workload (`bastion rm` / `bastion logout`). Cached client
 * registrations are per AS and shared, so they stay.
 */
export async function deleteGrant(store: TokenStore, name: string): Promise<boolean> {
  assertWorkloadName(name);
  return store.withLock(grantKey(name), () => store.delete(grantKey(name)));
}

export async function loadRegistration(
  store: TokenStore,
  issuer: string,
): Promise<StoredRegistration | undefined> {
  const value = await store.get(registrationKey(issuer));
  if (!isObject(value) || value['version'] !== 1 || typeof value['clientId'] !== 'string') return undefined;
  return value as unknown as StoredRegistration;
}
