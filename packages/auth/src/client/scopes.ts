/** Scope selection (MCP 2025-11-25 "Scope Selection Strategy") and step-up unions. */
import { parseBearerChallenge } from './www-authenticate.js';

/**
 * The scopes to request: `explicit` when given, else the challenge `scope`, else the PRM
 * `scopes_supported`; `undefined` (omit `scope`) when all are empty.
 */
export function selectScopes(
  explicit: readonly string[] | undefined,
  challengeScope: readonly string[] | undefined,
  scopesSupported: readonly string[] | undefined,
): string[] | undefined {
  for (const list of [explicit, challengeScope, scopesSupported]) {
    if (list && list.length > 0) return [...new Set(list)];
  }
  return undefined;
}

/**
 * Scopes for a step-up login after a 403 `insufficient_scope`: the union of what was granted (or
 * requested) and what the challenge asks for, so already-granted scopes are not lost. Returns
 * `undefined` when `wwwAuthenticate` is not an `insufficient_scope` challenge with a `scope`, or when
 * the challenge asks for nothing new (retrying would loop).
 */
export function stepUpScopes(
  current: readonly string[] | undefined,
  wwwAuthenticate: string | null | undefined,
): string[] | undefined {
  const challenge = parseBearerChallenge(wwwAuthenticate);
  if (challenge?.error !== 'insufficient_scope' || !challenge.scope) return undefined;
  const have = new Set(current ?? []);
  if (challenge.scope.every((s) => have.has(s))) return undefined;
  return [...new Set([...(current ?? []), ...challenge.scope])];
}

/** The OpenID Connect / SEP-2207 scope that asks the authorization server for a refresh token. */
export const OFFLINE_ACCESS = 'offline_access';

/**
 * The scopes of a grant that should yield a refresh token (authorization code, device code): bastion
 * runs unattended, so it asks for `offline_access` wherever the authorization server lists it in
 * `scopes_supported` (SEP-2207), and never where it does not. An `offline_access` the user put in the
 * explicit scopes (`explicit`) is kept even when unlisted (`scopes_supported` is optional metadata).
 * An absent scope list stays absent: asking for `offline_access` alone would replace the server's
 * default scopes.
 */
export function withOfflineAccess(
  scopes: readonly string[] | undefined,
  asScopesSupported: readonly string[] | undefined,
  explicit = false,
): string[] | undefined {
  if (!scopes || scopes.length === 0) return scopes ? [...scopes] : undefined;
  const listed = asScopesSupported?.includes(OFFLINE_ACCESS) === true;
  if (listed) return scopes.includes(OFFLINE_ACCESS) ? [...scopes] : [...scopes, OFFLINE_ACCESS];
  return explicit ? [...scopes] : withoutOfflineAccess(scopes);
}

/** `scopes` without `offline_access` (`undefined` when nothing else is left). */
export function withoutOfflineAccess(scopes: readonly string[] | undefined): string[] | undefined {
  const rest = scopes?.filter((s) => s !== OFFLINE_ACCESS);
  return rest && rest.length > 0 ? rest : undefined;
}

export function splitScope(scope: string | undefined): string[] | undefined {
  const list = scope?.split(/\s+/).filter((s) => s !== '');
  return list && list.length > 0 ? list : undefined;
}
