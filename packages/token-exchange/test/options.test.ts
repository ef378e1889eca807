import { describe, expect, it } from '@jest/globals';
import { createTokenExchangeMiddleware } from '../src/index.js';
import { resolveOptions, type TokenExchangeOptions, TokenType } from '../src/options.js';

const base: TokenExchangeOptions = {
  tokenUrl: 'https://sts.example.com/token',
  clientId: 'proxy',
  clientSecret: 's3cret',
};

describe('resolveOptions', () => {
  it('applies the documented defaults', () => {
    const o = resolveOptions(base);
    expect(o.grant).toBe('token-exchange');
    expect(o.clientAuth).toBe('client_secret_basic');
    expect(o.subjectTokenType).toBe(TokenType.access_token);
    expect(o.requestedTokenType).toBe(TokenType.access_token);
    expect(o.expirySkewMs).toBe(30_000);
    expect(o.defaultTtlMs).toBe(60_000);
    expect(o.maxCacheEntries).toBe(10_000);
    expect(o.timeoutMs).toBe(10_000);
    expect(o.retryAfterSeconds).toBe(5);
    expect(o.header).toBeUndefined();
    expect(o.scope).toBeUndefined();
    expect(Object.isFrozen(o)).toBe(true);
  });

  it('normalises token types, scopes and list parameters', () => {
    const o = resolveOptions({
      ...base,
      subjectTokenType: 'id_token',
      requestedTokenType: 'urn:example:custom',
      scope: ['a b', 'c'],
      audience: 'aud1',
      resource: ['https://r1', 'https://r2'],
    });
    expect(o.subjectTokenType).toBe(TokenType.id_token);
    expect(o.requestedTokenType).toBe('urn:example:custom');
    expect(o.scope).toBe('a b c');
    expect(o.audience).toEqual(['aud1']);
    expect(o.resource).toEqual(['https://r1', 'https://r2']);
    expect(resolveOptions({ ...base, requestedTokenType: null }).requestedTokenType).toBeUndefined();
  });

  it('infers private_key_jwt from a key and none from neither', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----';
    expect(resolveOptions({ tokenUrl: base.tokenUrl, clientId: 'p', privateKey: pem }).clientAuth).toBe(
      'private_key_jwt',
    );
    expect(resolveOptions({ tokenUrl: base.tokenUrl, clientId: 'p' }).clientAuth).toBe('none');
  });

  it('lower-cases the injection header and defaults its scheme', () => {
    expect(resolveOptions({ ...base, header: { name: 'X-Upstream-Token' } }).header).toEqual({
      name: 'x-upstream-token',
      keepOriginal: false,
      scheme: 'Bearer',
    });
  });

  const invalid: [string, Partial<TokenExchangeOptions> & Record<string, unknown>, RegExp][] = [
    ['no endpoint', { tokenUrl: undefined }, /one of "tokenUrl" or "issuer"/],
    ['http without opt-in', { tokenUrl: 'http://127.0.0.1/token' }, /"tokenUrl" must be an https: URL/],
    ['relative URL', { tokenUrl: '/token' }, /"tokenUrl" must be an absolute URL/],
    ['credentials in URL', { tokenUrl: 'https://u:p@sts.example.com/t' }, /must not contain credentials/],
    ['bad issuer', { issuer: 'ftp://x' }, /"issuer" must be an https: URL/],
    ['no client id', { clientId: '' }, /"clientId"/],
    ['unknown grant', { grant: 'password' as never }, /"grant"/],
    ['unknown client auth', { clientAuth: 'tls' as never }, /"clientAuth"/],
    [
      'post without secret',
      { clientSecret: undefined, clientAuth: 'client_secret_post' },
      /"clientSecret" is required/,
    ],
    [
      'jwt without key',
      { clientSecret: undefined, clientAuth: 'private_key_jwt' },
      /"privateKey" is required/,
    ],
    ['key that is not PEM', { clientSecret: undefined, privateKey: 'hunter2' }, /"privateKey" must be/],
    ['key with basic', { privateKey: { kty: 'EC' } }, /"privateKey" is only used/],
    ['authorization header', { header: { name: 'Authorization' } }, /omit "header"/],
    ['hop-by-hop header', { header: { name: 'connection' } }, /"header.name" must not be "connection"/],
    ['invalid header name', { header: { name: 'x y' } }, /"header.name" must be a valid header name/],
    ['bad scheme', { header: { name: 'x-t', scheme: 'Be arer' } }, /"header.scheme"/],
    ['bad keepOriginal', { header: { name: 'x-t', keepOriginal: 'yes' as never } }, /"header.keepOriginal"/],
    ['negative skew', { expirySkewMs: -1 }, /"expirySkewMs"/],
    ['NaN ttl', { defaultTtlMs: Number.NaN }, /"defaultTtlMs"/],
    ['zero timeout', { timeoutMs: 0 }, /"timeoutMs"/],
    ['fractional retry-after', { retryAfterSeconds: 1.5 }, /"retryAfterSeconds"/],
    ['bad cache bound', { maxCacheEntries: -5 }, /"maxCacheEntries"/],
    ['bad cache', { cache: {} as never }, /"cache"/],
    ['bad token type', { subjectTokenType: 'saml3' }, /"subjectTokenType"/],
    ['empty audience', { audience: [''] }, /"audience"/],
    ['scope not a string', { scope: [1] as never }, /"scope"/],
    ['insecure flag not boolean', { allowInsecureRequests: 'yes' as never }, /"allowInsecureRequests"/],
    ['empty realm', { challenge: { realm: '' } }, /"challenge.realm"/],
  ];
  it.each(invalid)('rejects %s with a TypeError naming the option', (_name, patch, message) => {
    const attempt = () => resolveOptions({ ...base, ...patch } as TokenExchangeOptions);
    expect(attempt).toThrow(TypeError);
    expect(attempt).toThrow(message);
  });

  it('accepts http: loopback URLs with allowInsecureRequests', () => {
    expect(
      resolveOptions({ ...base, tokenUrl: 'http://127.0.0.1:1/token', allowInsecureRequests: true }).tokenUrl
        ?.href,
    ).toBe('http://127.0.0.1:1/token');
  });
});

describe('createTokenExchangeMiddleware', () => {
  it('validates its options eagerly', () => {
    expect(() => createTokenExchangeMiddleware({ ...base, tokenUrl: 'nope' })).toThrow(/"tokenUrl"/);
  });

  it('is named token-exchange and ready at once with a token endpoint', () => {
    const m = createTokenExchangeMiddleware(base);
    expect(m.name).toBe('token-exchange');
    expect(m.readiness?.()).toEqual({ ready: true });
  });
});
