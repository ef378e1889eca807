/** Options and helpers shared by the three login grants (authorization code, device code, client credentials). */
import type { AuthorizationServerMetadata } from './authorization-server.js';
import { type ClientOptions, validateClientOptions } from './client-registration.js';
import {
  assertWorkloadName,
  type ClientIdentity,
  type GrantType,
  grantKey,
  type StoredGrant,
  saveGrant,
} from './credentials.js';
import type { RemoteAuthRequirement } from './detect.js';
import { type DPoPMode, validateDPoPMode } from './dpop.js';
import type { FetchLike } from './internal/http.js';
import { canonicalResourceUri, parseHttpUrl } from './internal/url.js';
import { selectScopes, splitScope, withOfflineAccess, withoutOfflineAccess } from './scopes.js';
import type { TokenStore } from './store/types.js';
import type { StoredTokens } from './credentials.js';

export interface LoginOptions {
  /** Workload name: the store entry is `tokens:<name>` (one per workload, updated in place). */
  name: string;
  store: TokenStore;
  /** What `detectRemoteAuth` (or `resolveRemoteAuth`) found. */
  auth: RemoteAuthRequirement;
  client?: ClientOptions | undefined;
  /** Scopes to request; default: the challenge `scope`, else PRM `scopes_supported`, else none. */
  scopes?: string[] | undefined;
  /**
   * Send the RFC 8707 `resource` parameter (authorization, token and refresh requests). Default: true.
   * When the AS answers `invalid_target`, the flow is retried once without it.
   */
  resourceParam?: boolean | undefined;
  /** Resource indicator to send. Default: the PRM `resource`, else the canonical server URL. */
  resource?: string | undefined;
  fetch?: FetchLike | undefined;
  /** Timeout of each HTTP request to the AS, in ms. Default: 30000. */
  requestTimeoutMs?: number | undefined;
  /** Accept plain-HTTP AS endpoints on non-loopback hosts. Default: false. */
  allowInsecureHttp?: boolean | undefined;
  signal?: AbortSignal | undefined;
  /**
   * Receives compatibility warnings of the login (e.g. `CIMD_REJECTED`: the AS rejected the Client ID
   * Metadata Document client id and the login fell back to dynamic registration). The library never logs.
   */
  onWarning?: ((warning: { code: string; message: string }) => void) | undefined;
  /**
   * DPoP (RFC 9449) for this login: `auto` (default: when both the AS and the MCP server support it),
   * `always` or `never`; see `DPoPMode`. A DPoP login makes a new key, stored with the tokens.
   */
  dpop?: DPoPMode | undefined;
}

/** What a login stored (never the token values). */
export interface LoginResult {
  name: string;
  grantType: GrantType;
  issuer: string;
  clientId: string;
  clientSource: ClientIdentity['source'];
  /** The resource indicator that was sent, or undefined when none was (opt-out or `invalid_target` fallback). */
  resource: string | undefined;
  scopes: string[] | undefined;
  expiresAt: number | undefined;
  hasRefreshToken: boolean;
  /** The access token is DPoP-bound (RFC 9449): it is presented as `DPoP` with a proof per request. */
  dpopBound: boolean;
}

export interface LoginPlan {
  name: string;
  as: AuthorizationServerMetadata;
  scopes: string[] | undefined;
  resource: string | undefined;
  fetch: FetchLike;
  requestTimeoutMs: number;
  allowInsecureHttp: boolean;
}

/**
 * `offlineAccess`: the grant yields refresh tokens (authorization code, device code), so the plan asks
 * for `offline_access` where the authorization server lists it (SEP-2207; see `withOfflineAccess`).
 */
export function planLogin(options: LoginOptions, grant: { offlineAccess?: boolean } = {}): LoginPlan {
  if (!options || typeof options !== 'object') throw new TypeError('login options must be an object');
  assertWorkloadName(options.name);
  if (!options.store || typeof options.store.withLock !== 'function')
    throw new TypeError('"store" must be a TokenStore');
  if (options.auth?.required !== true) throw new TypeError('"auth" must be a RemoteAuthRequirement');
  validateClientOptions(options.client);
  validateDPoPMode(options.dpop);
  if (
    options.scopes !== undefined &&
    (!Array.isArray(options.scopes) ||
      options.scopes.some((s) => typeof s !== 'string' || /\s/.test(s) || s === ''))
  ) {
    throw new TypeError('"scopes" must be an array of scope tokens');
  }
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  if (!Number.isFinite(requestTimeoutMs) || requestTimeoutMs <= 0)
    throw new TypeError('"requestTimeoutMs" must be a positive number');
  if (options.resource !== undefined) parseHttpUrl(options.resource, 'resource');
  const resource =
    options.resourceParam === false
      ? undefined
      : (options.resource ?? options.auth.resource ?? canonicalResourceUri(options.auth.serverUrl));
  const scopes = selectScopes(
    options.scopes,
    options.auth.challenge?.scope,
    options.auth.resourceMetadata.scopes_supported,
  );
  return {
    name: options.name,
    as: options.auth.authorizationServer,
    scopes: grant.offlineAccess
      ? withOfflineAccess(
          scopes,
          options.auth.authorizationServer.scopes_supported,
          (options.scopes?.length ?? 0) > 0,
        )
      : scopes,
    resource,
    fetch: options.fetch ?? fetch,
    requestTimeoutMs,
    allowInsecureHttp: options.allowInsecureHttp ?? false,
  };
}

export function scopeParams(
  scopes: string[] | undefined,
  resource: string | undefined,
): Record<string, string> {
  const params: Record<string, string> = {};
  if (scopes && scopes.length > 0) params['scope'] = scopes.join(' ');
  if (resource) params['resource'] = resource;
  return params;
}

export async function persistLogin(
  options: LoginOptions,
  plan: LoginPlan,
  grantType: GrantType,
  client: ClientIdentity,
  resource: string | undefined,
  tokens: StoredTokens,
  grantedScope: string | undefined,
  /** What the non-interactive grants need to run again at expiry (`jwt_bearer`, `id_jag`). */
  extra: Pick<StoredGrant, 'assertionFile' | 'idJag' | 'dpop'> = {},
): Promise<LoginResult> {
  const granted = splitScope(grantedScope) ?? plan.scopes;
  const grant: StoredGrant = {
    version: 1,
    workload: plan.name,
    serverUrl: options.auth.serverUrl,
    grantType,
    authorizationServer: plan.as,
    client,
    resource,
    // What the resource needs, without the grant-level offline_access: a later login (step-up, another
    // authorization server) decides that one again from its own server's metadata.
    scopes: withoutOfflineAccess(plan.scopes),
    grantedScopes: granted,
    tokens,
    resourceMetadataUrl: options.auth.resourceMetadataUrl,
    ...(options.auth.discovery !== undefined && options.auth.discovery !== 'prm'
      ? { discovery: options.auth.discovery }
      : {}),
    ...extra,
    updatedAt: Date.now(),
  };
  await saveGrant(options.store, grant);
  return {
    name: plan.name,
    grantType,
    issuer: plan.as.issuer,
    clientId: client.clientId,
    clientSource: client.source,
    resource,
    scopes: granted,
    expiresAt: tokens.expiresAt,
    hasRefreshToken: tokens.refreshToken !== undefined,
    dpopBound: extra.dpop !== undefined,
  };
}

export { grantKey };
