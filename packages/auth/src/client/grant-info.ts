/** Non-secret views of what is stored for a workload (for `bastion status` / `list`), and logout. */
import {
  assertWorkloadName,
  deleteGrant,
  type GrantType,
  grantKey,
  loadGrant,
  saveGrant,
} from './credentials.js';
import type { TokenStore } from './store/types.js';

export interface StoredGrantInfo {
  name: string;
  serverUrl: string;
  grantType: GrantType;
  issuer: string;
  clientId: string;
  clientSource: 'static' | 'cimd' | 'dcr';
  resource: string | undefined;
  scopes: string[] | undefined;
  /**
   * How the AS was found at login: `prm` (RFC 9728), or the MCP 2025-03-26 fallback for a remote
   * without PRM (`legacy-metadata`: RFC 8414 at its origin; `legacy-default-endpoints`: `/authorize`,
   * `/token`, `/register` at its origin).
   */
  discovery: 'prm' | 'legacy-metadata' | 'legacy-default-endpoints';
  /** False after `invalid_grant` (tokens dropped) until the next login. */
  hasTokens: boolean;
  /** `dpop` when the tokens are DPoP-bound (RFC 9449), `bearer` otherwise; undefined without tokens. */
  tokenBinding: 'bearer' | 'dpop' | undefined;
  hasRefreshToken: boolean;
  expiresAt: number | undefined;
  updatedAt: number;
}

/** What is stored for `name`, without any secret; `undefined` when nothing is. */
export async function getStoredGrantInfo(
  store: TokenStore,
  name: string,
): Promise<StoredGrantInfo | undefined> {
  assertWorkloadName(name);
  const grant = await loadGrant(store, name);
  if (!grant) return undefined;
  return {
    name,
    serverUrl: grant.serverUrl,
    grantType: grant.grantType,
    issuer: grant.authorizationServer.issuer,
    clientId: grant.client.clientId,
    clientSource: grant.client.source,
    resource: grant.resource,
    scopes: grant.grantedScopes ?? grant.scopes,
    discovery: grant.discovery ?? 'prm',
    hasTokens: grant.tokens !== undefined,
    tokenBinding:
      grant.tokens === undefined
        ? undefined
        : grant.tokens.tokenType.toLowerCase() === 'dpop'
          ? 'dpop'
          : 'bearer',
    hasRefreshToken: grant.tokens?.refreshToken !== undefined,
    expiresAt: grant.tokens?.expiresAt,
    updatedAt: grant.updatedAt,
  };
}

/** Deletes the stored grant of `name` (`bastion logout` / `bastion rm`); `true` when one existed. */
export function forgetWorkload(store: TokenStore, name: string): Promise<boolean> {
  return deleteGrant(store, name);
}

/**
 * Drops the tokens of `name`'s grant and keeps the rest (AS metadata, client identity), as after
 * `invalid_grant`: e.g. when the remote moved to another authorization server, so no instance keeps
 * presenting them. Sessions that re-open (or refresh) see `unauthenticated`. `true` when there were
 * tokens.
 */
export async function discardTokens(store: TokenStore, name: string): Promise<boolean> {
  assertWorkloadName(name);
  return store.withLock(grantKey(name), async () => {
    const grant = await loadGrant(store, name);
    if (!grant?.tokens) return false;
    await saveGrant(store, { ...grant, tokens: undefined });
    return true;
  });
}
