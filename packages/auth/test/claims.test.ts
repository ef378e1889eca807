import { describe, expect, it } from '@jest/globals';
import {
  AuthErrorCode,
  getClaim,
  identityFromClaims,
  resolveClaimMapping,
  scopesFromClaims,
  TokenRejectedError,
} from '../src/index.js';

describe('getClaim', () => {
  const claims = {
    sub: 'u1',
    realm_access: { roles: ['admin', 'dev'] },
    'https://example.com/groups': ['g1'],
    a: { b: { c: 3 } },
  };

  it('reads top-level, dotted and literal-dotted claim names', () => {
    expect(getClaim(claims, 'sub')).toBe('u1');
    expect(getClaim(claims, 'realm_access.roles')).toEqual(['admin', 'dev']);
    expect(getClaim(claims, 'https://example.com/groups')).toEqual(['g1']);
    expect(getClaim(claims, 'a.b.c')).toBe(3);
  });

  it('returns undefined for missing paths and never walks into prototypes', () => {
    expect(getClaim(claims, 'a.x.c')).toBeUndefined();
    expect(getClaim(claims, 'sub.length')).toBeUndefined();
    expect(getClaim(claims, '__proto__.polluted')).toBeUndefined();
    expect(getClaim(claims, 'constructor')).toBeUndefined();
  });
});

describe('scopesFromClaims', () => {
  it('merges scope (space separated) and scp (array or string)', () => {
    expect(scopesFromClaims({ scope: 'a b  c' })).toEqual(['a', 'b', 'c']);
    expect(scopesFromClaims({ scp: ['x', 'y', 3] })).toEqual(['x', 'y']);
    expect(scopesFromClaims({ scope: 'a', scp: 'a b' })).toEqual(['a', 'b']);
    expect(scopesFromClaims({})).toEqual([]);
  });
});

describe('identityFromClaims', () => {
  it('maps the default claims', () => {
    const id = identityFromClaims(
      {
        sub: 'u1',
        name: 'Ann',
        email: 'ann@x.test',
        groups: ['eng', 7],
        roles: 'admin',
        scope: 'mcp:read',
        exp: 99,
      },
      resolveClaimMapping(),
      'jwt',
    );
    expect(id).toMatchObject({
      subject: 'u1',
      name: 'Ann',
      email: 'ann@x.test',
      groups: ['eng'],
      roles: ['admin'],
      scopes: ['mcp:read'],
      tokenKind: 'jwt',
      expiresAt: 99,
    });
    expect(id.claims.sub).toBe('u1');
    expect(Object.isFrozen(id.claims)).toBe(true);
  });

  it('uses configured and nested claim paths, merging several group claims', () => {
    const mapping = resolveClaimMapping({
      userId: 'oid',
      groups: ['groups', 'realm_access.groups'],
      roles: 'realm_access.roles',
      name: 'preferred_username',
    });
    const id = identityFromClaims(
      {
        oid: 'o-1',
        preferred_username: 'ann',
        groups: ['a'],
        realm_access: { groups: ['a', 'b'], roles: ['r1'] },
      },
      mapping,
      'opaque',
    );
    expect(id.subject).toBe('o-1');
    expect(id.name).toBe('ann');
    expect(id.groups).toEqual(['a', 'b']);
    expect(id.roles).toEqual(['r1']);
  });

  it('rejects a token without a usable user id', () => {
    for (const claims of [{}, { sub: '' }, { sub: { id: 1 } }, { sub: 1.5 }]) {
      let error: unknown;
      try {
        identityFromClaims(claims, resolveClaimMapping(), 'jwt');
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(TokenRejectedError);
      expect((error as TokenRejectedError).code).toBe(AuthErrorCode.MissingUserId);
    }
    expect(identityFromClaims({ sub: 42 }, resolveClaimMapping(), 'opaque').subject).toBe('42');
  });

  it('validates the mapping options', () => {
    expect(() => resolveClaimMapping({ userId: '' })).toThrow(/claims.userId/);
    expect(() => resolveClaimMapping({ groups: [''] })).toThrow(/claims.groups/);
  });
});
