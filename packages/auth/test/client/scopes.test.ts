import { describe, expect, it } from '@jest/globals';
import { selectScopes } from '@bastion-mcp/auth/client';
import { OFFLINE_ACCESS, withOfflineAccess, withoutOfflineAccess } from '../../src/client/scopes.js';

describe('selectScopes', () => {
  it('prefers explicit scopes, then the challenge, then the PRM scopes_supported', () => {
    expect(selectScopes(['a'], ['b'], ['c'])).toEqual(['a']);
    expect(selectScopes(undefined, ['b', 'b'], ['c'])).toEqual(['b']);
    expect(selectScopes([], [], ['c'])).toEqual(['c']);
    expect(selectScopes(undefined, undefined, [])).toBeUndefined();
  });
});

describe('withOfflineAccess (SEP-2207)', () => {
  const listed = ['mcp:basic', OFFLINE_ACCESS];

  it('adds offline_access when the authorization server lists it', () => {
    expect(withOfflineAccess(['mcp:basic'], listed)).toEqual(['mcp:basic', 'offline_access']);
    expect(withOfflineAccess(['a', 'b'], listed, true)).toEqual(['a', 'b', 'offline_access']);
  });

  it('does not duplicate an offline_access already requested', () => {
    expect(withOfflineAccess(['offline_access', 'a'], listed)).toEqual(['offline_access', 'a']);
  });

  it('never requests offline_access from a server that does not list it', () => {
    expect(withOfflineAccess(['mcp:basic', 'mcp:read'], ['mcp:basic', 'mcp:read'])).toEqual([
      'mcp:basic',
      'mcp:read',
    ]);
    // a challenge or PRM that names it anyway does not make bastion ask for it
    expect(withOfflineAccess(['mcp:basic', 'offline_access'], ['mcp:basic'])).toEqual(['mcp:basic']);
    expect(withOfflineAccess(['offline_access'], undefined)).toBeUndefined();
  });

  it('keeps an offline_access the user asked for explicitly', () => {
    expect(withOfflineAccess(['a', 'offline_access'], undefined, true)).toEqual(['a', 'offline_access']);
  });

  it('leaves an absent or empty scope list alone (the server default scopes apply)', () => {
    expect(withOfflineAccess(undefined, listed)).toBeUndefined();
    expect(withOfflineAccess([], listed)).toEqual([]);
  });

  it('does not change the list it was given', () => {
    const scopes = ['a'];
    withOfflineAccess(scopes, listed);
    expect(scopes).toEqual(['a']);
  });
});

describe('withoutOfflineAccess', () => {
  it('drops offline_access and collapses an empty remainder to undefined', () => {
    expect(withoutOfflineAccess(['a', 'offline_access', 'b'])).toEqual(['a', 'b']);
    expect(withoutOfflineAccess(['offline_access'])).toBeUndefined();
    expect(withoutOfflineAccess(undefined)).toBeUndefined();
  });
});
