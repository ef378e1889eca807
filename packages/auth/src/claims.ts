/**
 * Claims → {@link Identity}. Claim names may be dotted paths into nested objects
 * (`realm_access.roles`); a claim whose literal name contains dots (`https://example.com/groups`)
 * is found first, before the name is split into a path.
 */
import type { Identity } from '@bastion-mcp/proxy-core';
import { AuthErrorCode, TokenRejectedError } from './errors.js';
import { assertNonEmptyString } from './internal/validate.js';

export interface ClaimMapping {
  /** Claim holding the stable user id. Default `'sub'`. */
  readonly userId?: string;
  /** Claim holding the display name. Default `'name'`. */
  readonly name?: string;
  /** Claim holding the e-mail address. Default `'email'`. */
  readonly email?: string;
  /** Claim(s) holding the groups (merged, de-duplicated). Default `['groups']`. */
  readonly groups?: string | readonly string[];
  /** Claim(s) holding the roles (merged, de-duplicated). Default `['roles']`. */
  readonly roles?: string | readonly string[];
}

export interface ResolvedClaimMapping {
  readonly userId: string;
  readonly name: string;
  readonly email: string;
  readonly groups: readonly string[];
  readonly roles: readonly string[];
}

/** Validates a mapping and fills the defaults. */
export function resolveClaimMapping(mapping: ClaimMapping = {}): ResolvedClaimMapping {
  if (mapping === null || typeof mapping !== 'object') throw new TypeError('"claims" must be an object');
  const one = (name: string, value: string | undefined, fallback: string): string => {
    if (value === undefined) return fallback;
    assertNonEmptyString(`claims.${name}`, value);
    return value;
  };
  const many = (name: string, value: string | readonly string[] | undefined, fallback: string): string[] => {
    if (value === undefined) return [fallback];
    const list = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(list) || list.some((v) => typeof v !== 'string' || v.trim() === '')) {
      throw new TypeError(`"claims.${name}" must be a claim name or an array of claim names`);
    }
    return [...list];
  };
  return {
    userId: one('userId', mapping.userId, 'sub'),
    name: one('name', mapping.name, 'name'),
    email: one('email', mapping.email, 'email'),
    groups: many('groups', mapping.groups, 'groups'),
    roles: many('roles', mapping.roles, 'roles'),
  };
}

/** The value of a claim by name or dotted path, or `undefined`. Never walks into prototypes. */
export function getClaim(claims: Readonly<Record<string, unknown>>, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  if (!path.includes('.')) return undefined;
  let current: unknown = claims;
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    if (!Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** A string-list claim: an array (non-strings dropped) or a single string. */
export function stringList(value: unknown): string[] {
  if (typeof value === 'string') return value === '' ? [] : [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v !== '');
  return [];
}

/** Scopes from `scope` (space-separated, RFC 8693/9068) and `scp` (array or string), de-duplicated. */
export function scopesFromClaims(claims: Readonly<Record<string, unknown>>): string[] {
  const out = new Set<string>();
  const add = (value: unknown): void => {
    if (typeof value === 'string') {
      for (const s of value.split(' ')) if (s !== '') out.add(s);
    } else if (Array.isArray(value)) {
      for (const s of value) if (typeof s === 'string' && s !== '') out.add(s);
    }
  };
  add(claims.scope);
  add(claims.scp);
  return [...out];
}

/**
 * Builds the identity of a validated token.
 *
 * @throws {TokenRejectedError} `ERR_BASTION_AUTH_MISSING_USER_ID` when the user-id claim is absent,
 *   empty, or neither a string nor an integer.
 */
export function identityFromClaims(
  claims: Readonly<Record<string, unknown>>,
  mapping: ResolvedClaimMapping,
  tokenKind: Identity['tokenKind'],
): Identity {
  const rawId = getClaim(claims, mapping.userId);
  const subject = typeof rawId === 'string' ? rawId : Number.isSafeInteger(rawId) ? String(rawId) : undefined;
  if (subject === undefined || subject === '') {
    throw new TokenRejectedError(AuthErrorCode.MissingUserId, 'The access token does not identify a user', {
      claim: mapping.userId,
    });
  }
  const text = (path: string): string | undefined => {
    const v = getClaim(claims, path);
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const collect = (paths: readonly string[]): string[] => [
    ...new Set(paths.flatMap((p) => stringList(getClaim(claims, p)))),
  ];
  const exp = claims.exp;
  return Object.freeze({
    subject,
    name: text(mapping.name),
    email: text(mapping.email),
    groups: Object.freeze(collect(mapping.groups)),
    roles: Object.freeze(collect(mapping.roles)),
    scopes: Object.freeze(scopesFromClaims(claims)),
    claims: Object.freeze({ ...claims }),
    tokenKind,
    expiresAt: typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined,
  });
}
