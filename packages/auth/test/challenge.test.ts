import { describe, expect, it } from '@jest/globals';
import { formatBearerChallenge, resourceMetadataPaths, resourceMetadataUrl } from '../src/index.js';

describe('formatBearerChallenge', () => {
  it('orders realm, resource_metadata, scope, error, error_description', () => {
    expect(
      formatBearerChallenge({
        error: 'invalid_token',
        errorDescription: 'The access token expired',
        scope: 'openid mcp:read',
        resourceMetadata: 'https://proxy.test/.well-known/oauth-protected-resource/mcp',
        realm: 'https://idp.test',
      }),
    ).toBe(
      'Bearer realm="https://idp.test", resource_metadata="https://proxy.test/.well-known/oauth-protected-resource/mcp", scope="openid mcp:read", error="invalid_token", error_description="The access token expired"',
    );
  });

  it('omits absent parameters (no error for a missing credential)', () => {
    expect(formatBearerChallenge({ realm: 'r', resourceMetadata: 'https://p/.well-known/x' })).toBe(
      'Bearer realm="r", resource_metadata="https://p/.well-known/x"',
    );
    expect(formatBearerChallenge({})).toBe('Bearer');
  });

  it('drops characters that could break out of a quoted-string', () => {
    const value = formatBearerChallenge({ realm: 'a"b\\c\r\nd', errorDescription: 'x"' });
    expect(value).toBe('Bearer realm="abcd", error_description="x"');
  });
});

describe('resourceMetadataUrl', () => {
  it('inserts the well-known segment before the resource path (RFC 9728 §3.1)', () => {
    expect(resourceMetadataUrl('https://proxy.test/mcp')).toBe(
      'https://proxy.test/.well-known/oauth-protected-resource/mcp',
    );
    expect(resourceMetadataUrl('http://h:8080/')).toBe('http://h:8080/.well-known/oauth-protected-resource');
    expect(resourceMetadataUrl('https://p/a/b?x=1')).toBe(
      'https://p/.well-known/oauth-protected-resource/a/b?x=1',
    );
  });

  it('lists the root and the path-suffixed well-known paths', () => {
    expect(resourceMetadataPaths('https://p/mcp')).toEqual([
      '/.well-known/oauth-protected-resource',
      '/.well-known/oauth-protected-resource/mcp',
    ]);
    expect(resourceMetadataPaths('https://p')).toEqual(['/.well-known/oauth-protected-resource']);
  });
});
