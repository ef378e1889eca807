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

export function splitScope(scope: string | undefined): string[] | undefined {
  const list = scope?.split(/\s+/).filter((s) => s !== '');
  return list && list.length > 0 ? list : undefined;
}
