import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  AuthErrorCode,
  createJwtVerifier,
  JwksCache,
  type JwtVerifier,
  TokenRejectedError,
} from '../src/index.js';
import { type MintOptions, startTokenMinter, type TokenMinter } from '@bastion-mcp/testkit';

/**
 * Tokens come from the testkit token minter: it signs anything (invalid tokens included) and serves
 * its JWKS over real HTTP, which the verifier fetches through a real {@link JwksCache}.
 */
const AUD = 'https://proxy.test/mcp';
let idp: TokenMinter;
let jwks: JwksCache;
let verifier: JwtVerifier;

/** A token for {@link AUD} with `claims` (a claim set to `undefined` removes a default). */
function mint(claims: Record<string, unknown>, options: Omit<MintOptions, 'claims'> = {}): Promise<string> {
  return idp.mint({ ...options, claims: { aud: AUD, ...claims } });
}

beforeAll(async () => {
  idp = await startTokenMinter();
  jwks = new JwksCache({ jwksUrl: idp.jwksUri, cooldownMs: 0 });
  verifier = createJwtVerifier({ issuer: idp.issuer, audience: AUD, keys: jwks, cacheTtlMs: 0 });
});

afterAll(async () => {
  jwks.close();
  await idp.close();
});

async function rejection(token: string, v: JwtVerifier = verifier): Promise<TokenRejectedError> {
  try {
    await v.verify(token);
  } catch (err) {
    expect(err).toBeInstanceOf(TokenRejectedError);
    return err as TokenRejectedError;
  }
  throw new Error('token was accepted');
}

describe('createJwtVerifier', () => {
  it('accepts a valid RS256 token and returns its claims', async () => {
    const { payload, header } = await verifier.verify(await mint({ sub: 'u1', name: 'Ann' }));
    expect(payload).toMatchObject({ sub: 'u1', name: 'Ann', iss: idp.issuer, aud: AUD });
    expect(header.alg).toBe('RS256');
  });

  it.each(['RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'] as const)(
    'accepts a valid %s token',
    async (alg) => {
      const { payload, header } = await verifier.verify(await mint({ sub: 'u1' }, { alg }));
      expect(payload.sub).toBe('u1');
      expect(header.alg).toBe(alg);
    },
  );

  it('accepts an aud array that contains the audience', async () => {
    const { payload } = await verifier.verify(await mint({ sub: 'u1', aud: ['other', AUD] }));
    expect(payload.aud).toEqual(['other', AUD]);
  });

  it('rejects an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const err = await rejection(await mint({ sub: 'u1', exp: now - 120 }));
    expect(err.code).toBe(AuthErrorCode.TokenExpired);
    expect(err.publicDescription).toBe('The access token expired');
  });

  it('tolerates clock skew up to clockToleranceMs', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expect(verifier.verify(await mint({ sub: 'u1', exp: now - 10 }))).resolves.toBeDefined();
    const strict = createJwtVerifier({ issuer: idp.issuer, audience: AUD, keys: jwks, clockToleranceMs: 0 });
    expect((await rejection(await mint({ sub: 'u1', exp: now - 10 }), strict)).code).toBe(
      AuthErrorCode.TokenExpired,
    );
  });

  it('rejects a token that is not valid yet', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await rejection(await mint({ sub: 'u1', nbf: now + 600 }))).code).toBe(
      AuthErrorCode.TokenNotYetValid,
    );
  });

  it('rejects a wrong issuer, even one differing only by a trailing slash', async () => {
    expect((await rejection(await mint({ sub: 'u1', iss: 'https://evil.test' }))).code).toBe(
      AuthErrorCode.IssuerMismatch,
    );
    expect((await rejection(await mint({ sub: 'u1', iss: `${idp.issuer}/` }))).code).toBe(
      AuthErrorCode.IssuerMismatch,
    );
  });

  it('rejects a wrong or missing audience', async () => {
    expect((await rejection(await mint({ sub: 'u1', aud: 'other' }))).code).toBe(
      AuthErrorCode.AudienceMismatch,
    );
    expect((await rejection(await mint({ sub: 'u1', aud: ['a', 'b'] }))).code).toBe(
      AuthErrorCode.AudienceMismatch,
    );
    expect((await rejection(await mint({ sub: 'u1', aud: undefined }))).code).toBe(
      AuthErrorCode.AudienceMismatch,
    );
  });

  it('rejects a token without exp', async () => {
    const err = await rejection(await mint({ sub: 'u1', exp: undefined }));
    expect(err.code).toBe(AuthErrorCode.InvalidClaim);
    expect(err.claim).toBe('exp');
  });

  it('rejects a non-numeric exp', async () => {
    expect((await rejection(await mint({ sub: 'u1', exp: 'tomorrow' }))).code).toBe(
      AuthErrorCode.InvalidClaim,
    );
  });

  it('rejects alg none', async () => {
    expect((await rejection(await mint({ sub: 'u1' }, { alg: 'none' }))).code).toBe(
      AuthErrorCode.AlgorithmNotAllowed,
    );
  });

  it.each(['HS256', 'HS384', 'HS512'] as const)(
    'rejects %s signed with the RSA public key bytes (algorithm confusion)',
    async (alg) => {
      // The minter's default HMAC secret is the current RSA public key as SPKI PEM text.
      const token = await mint({ sub: 'u1' }, { alg, kid: idp.kids.rsa });
      expect((await rejection(token)).code).toBe(AuthErrorCode.AlgorithmNotAllowed);
    },
  );

  it('rejects a token whose alg does not fit the key type of its kid', async () => {
    // ES256-signed but claiming the RSA key id: no RSA key can verify an ES256 header.
    const token = await mint({ sub: 'u1' }, { alg: 'ES256', kid: idp.kids.rsa });
    expect((await rejection(token)).code).toBe(AuthErrorCode.UnknownSigningKey);
  });

  it('rejects a kid that is not in the JWKS', async () => {
    const err = await rejection(await mint({ sub: 'u1' }, { kid: 'k9' }));
    expect(err.code).toBe(AuthErrorCode.UnknownSigningKey);
    expect(err.publicDescription).not.toContain('k9');
  });

  it('rejects an unknown crit header parameter', async () => {
    const token = await mint({ sub: 'u1' }, { header: { crit: ['exp-ext'], 'exp-ext': 1 } });
    expect((await rejection(token)).code).toBe(AuthErrorCode.UnsupportedCritical);
  });

  it('checks typ when configured (at+jwt, RFC 9068)', async () => {
    const typed = createJwtVerifier({ issuer: idp.issuer, audience: AUD, keys: jwks, typ: 'at+jwt' });
    await expect(
      typed.verify(await mint({ sub: 'u1' }, { header: { typ: 'at+jwt' } })),
    ).resolves.toBeDefined();
    await expect(
      typed.verify(await mint({ sub: 'u1' }, { header: { typ: 'application/at+jwt' } })),
    ).resolves.toBeDefined();
    expect((await rejection(await mint({ sub: 'u1' }), typed)).code).toBe(AuthErrorCode.TypeMismatch);
  });

  it('rejects garbage and a tampered payload', async () => {
    expect((await rejection('not-a-jwt')).code).toBe(AuthErrorCode.MalformedToken);
    expect((await rejection('e30.e30.!!!')).code).toBe(AuthErrorCode.MalformedToken);
    const token = await mint({ sub: 'u1' });
    const [h, , s] = token.split('.');
    const forged = Buffer.from(
      JSON.stringify({ iss: idp.issuer, aud: AUD, sub: 'admin', exp: 2e9 }),
    ).toString('base64url');
    expect((await rejection(`${h}.${forged}.${s}`)).code).toBe(AuthErrorCode.SignatureInvalid);
  });

  it('rejects algorithms outside the configured allow-list', async () => {
    const esOnly = createJwtVerifier({
      issuer: idp.issuer,
      audience: AUD,
      keys: jwks,
      algorithms: ['ES256'],
    });
    expect((await rejection(await mint({ sub: 'u1' }), esOnly)).code).toBe(AuthErrorCode.AlgorithmNotAllowed);
  });

  it('refuses symmetric or unknown algorithms in the options', () => {
    expect(() =>
      createJwtVerifier({ issuer: idp.issuer, audience: AUD, keys: jwks, algorithms: ['HS256'] }),
    ).toThrow(TypeError);
    expect(() =>
      createJwtVerifier({ issuer: idp.issuer, audience: AUD, keys: jwks, algorithms: ['none'] }),
    ).toThrow(/"algorithms"/);
    expect(() => createJwtVerifier({ issuer: idp.issuer, audience: [], keys: jwks })).toThrow(/"audience"/);
  });

  it('remembers a verified token until its exp, and never a mutated one', async () => {
    const cached = createJwtVerifier({ issuer: idp.issuer, audience: AUD, keys: jwks });
    const token = await mint({ sub: 'u1' });
    const first = await cached.verify(token);
    expect(await cached.verify(token)).toBe(first);
    const mutated = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    await expect(cached.verify(mutated)).rejects.toBeInstanceOf(TokenRejectedError);
  });

  it('accepts no single-byte mutation of a valid token (property)', async () => {
    const token = await mint({ sub: 'u1', scope: 'mcp:read' }, { alg: 'ES256' });
    await verifier.verify(token);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ';
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: token.length - 1 }),
        fc.constantFrom(...alphabet.split('')),
        async (index, replacement) => {
          fc.pre(token[index] !== replacement);
          const mutated = token.slice(0, index) + replacement + token.slice(index + 1);
          let accepted = true;
          try {
            const { payload } = await verifier.verify(mutated);
            // base64url has "don't care" low bits in the last char of a segment: a mutation that
            // decodes to the very same bytes is the same token, not a forgery.
            accepted = !sameDecoded(mutated, token) || payload.sub !== 'u1';
          } catch (err) {
            expect(err).toBeInstanceOf(TokenRejectedError);
            accepted = false;
          }
          expect(accepted).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});

function sameDecoded(a: string, b: string): boolean {
  const pa = a.split('.');
  const pb = b.split('.');
  if (pa.length !== 3 || pb.length !== 3) return false;
  return pa.every((seg, i) =>
    Buffer.from(seg, 'base64url').equals(Buffer.from(pb[i] as string, 'base64url')),
  );
}
