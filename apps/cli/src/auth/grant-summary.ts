/** What `bastion status` shows about a workload's stored login (never a secret). */
import type { StoredGrantInfo } from '@bastion-mcp/auth/client';
import type { BastionPaths } from '../paths.js';
import { openTokenStore } from './store.js';

export interface LoginSummary {
  issuer: string;
  grantType: StoredGrantInfo['grantType'];
  client: string;
  scopes: string[] | null;
  tokenBinding: 'bearer' | 'dpop' | null;
  hasRefreshToken: boolean;
  expiresAt: string | null;
  discovery: StoredGrantInfo['discovery'];
}

/** The stored login of `name`, or undefined when there is none (or the store cannot be opened). */
export async function loginSummary(paths: BastionPaths, name: string): Promise<LoginSummary | undefined> {
  const { getStoredGrantInfo } = await import('@bastion-mcp/auth/client');
  const info = await openTokenStore(paths)
    .then((store) => getStoredGrantInfo(store, name))
    .catch(() => undefined);
  if (!info) return undefined;
  return {
    issuer: info.issuer,
    grantType: info.grantType,
    client: `${info.clientId} (${info.clientSource})`,
    scopes: info.scopes ?? null,
    tokenBinding: info.tokenBinding ?? null,
    hasRefreshToken: info.hasRefreshToken,
    expiresAt: info.expiresAt === undefined ? null : new Date(info.expiresAt).toISOString(),
    discovery: info.discovery,
  };
}

function inMinutes(iso: string, now: number): string {
  const ms = Date.parse(iso) - now;
  if (ms <= 0) return 'expired';
  const m = Math.round(ms / 60_000);
  return m >= 120 ? `expires in ${Math.round(m / 60)}h` : `expires in ${m}m`;
}

/** One line for the human `status` output. */
export function formatLoginSummary(s: LoginSummary, now = Date.now()): string {
  const parts = [`${s.grantType} at ${s.issuer}`];
  if (s.scopes && s.scopes.length > 0) parts.push(`scopes: ${s.scopes.join(' ')}`);
  if (s.tokenBinding === null) parts.push('no token (run bastion login)');
  else parts.push(s.tokenBinding === 'dpop' ? 'DPoP-bound token' : 'bearer token');
  if (s.tokenBinding !== null && s.expiresAt) parts.push(inMinutes(s.expiresAt, now));
  if (s.hasRefreshToken) parts.push('refreshable');
  if (s.discovery !== 'prm')
    parts.push('found by the MCP 2025-03-26 fallback (no protected resource metadata)');
  return parts.join(' · ');
}
