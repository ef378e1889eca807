import { describe, expect, it } from '@jest/globals';
import { parseBearerChallenge, parseWwwAuthenticate, stepUpScopes } from '@bastion-mcp/auth/client';

describe('parseWwwAuthenticate', () => {
  it('parses a Bearer challenge with quoted and token values, case-insensitively', () => {
    const [ch] = parseWwwAuthenticate(
      'bearer Resource_Metadata="https://a.example/.well-known/oauth-protected-resource/mcp", scope="files:read files:write", error=invalid_token',
    );
    expect(ch).toEqual({
      scheme: 'bearer',
      params: {
        resource_metadata: 'https://a.example/.well-known/oauth-protected-resource/mcp',
        scope: 'files:read files:write',
        error: 'invalid_token',
      },
    });
  });

  it('separates several challenges, including a Bearer that is not first', () => {
    const list = parseWwwAuthenticate(
      'Basic realm="simple", Newauth realm="apps", type=1, Bearer scope="a", error="insufficient_scope"',
    );
    expect(list.map((c) => c.scheme)).toEqual(['basic', 'newauth', 'bearer']);
    expect(list[1]?.params).toEqual({ realm: 'apps', type: '1' });
    expect(list[2]?.params).toEqual({ scope: 'a', error: 'insufficient_scope' });
  });

  it('handles escaped quotes and commas inside quoted strings without leaking parameters', () => {
    const [ch] = parseWwwAuthenticate(
      'Bearer error_description="bad \\"scope=x\\", resource_metadata=evil", realm="r"',
    );
    expect(ch?.params['error_description']).toBe('bad "scope=x", resource_metadata=evil');
    expect(ch?.params['resource_metadata']).toBeUndefined();
    expect(ch?.params['realm']).toBe('r');
  });

  it('reads token68 credentials and bare schemes', () => {
    expect(parseWwwAuthenticate('Negotiate abc+/9==, Bearer')).toEqual([
      { scheme: 'negotiate', params: {}, token68: 'abc+/9==' },
      { scheme: 'bearer', params: {} },
    ]);
  });

  it('keeps the first occurrence of a repeated parameter and skips garbage', () => {
    const [ch] = parseWwwAuthenticate('Bearer scope="a", scope="b", , ="x"');
    expect(ch?.params['scope']).toBe('a');
    expect(parseWwwAuthenticate('')).toEqual([]);
    expect(parseWwwAuthenticate(null)).toEqual([]);
  });
});

describe('parseBearerChallenge', () => {
  it('splits scope and maps the RFC 9728 / RFC 6750 parameters', () => {
    expect(
      parseBearerChallenge(
        'Basic realm="x", Bearer realm="mcp", resource_metadata="https://h/prm", scope="a  b", error="insufficient_scope", error_description="need b"',
      ),
    ).toEqual({
      realm: 'mcp',
      resourceMetadata: 'https://h/prm',
      scope: ['a', 'b'],
      error: 'insufficient_scope',
      errorDescription: 'need b',
    });
  });

  it('returns undefined without a Bearer challenge and empty fields for a bare Bearer', () => {
    expect(parseBearerChallenge('Basic realm="x"')).toBeUndefined();
    expect(parseBearerChallenge('Bearer')).toEqual({
      realm: undefined,
      resourceMetadata: undefined,
      scope: undefined,
      error: undefined,
      errorDescription: undefined,
    });
  });
});

describe('stepUpScopes', () => {
  it('unions granted scopes with the insufficient_scope challenge', () => {
    expect(stepUpScopes(['read'], 'Bearer error="insufficient_scope", scope="write read"')).toEqual([
      'read',
      'write',
    ]);
  });

  it('returns undefined when nothing new is asked or the challenge is not insufficient_scope', () => {
    expect(
      stepUpScopes(['read', 'write'], 'Bearer error="insufficient_scope", scope="write"'),
    ).toBeUndefined();
    expect(stepUpScopes(['read'], 'Bearer error="invalid_token", scope="write"')).toBeUndefined();
    expect(stepUpScopes(undefined, 'Bearer error="insufficient_scope"')).toBeUndefined();
  });
});
