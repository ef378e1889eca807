import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  base64url,
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  type JSONWebKeySet,
  jwtVerify,
} from 'jose';
import { type MintAlg, startTokenMinter, type TokenMinter } from '../src/idp/index.js';

let minter: TokenMinter;

beforeAll(async () => {
  minter = await startTokenMinter();
});
afterAll(() => minter.close());

const decodePayload = (token: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;

const fetchJwks = async (): Promise<JSONWebKeySet> =>
  (await (await fetch(minter.jwksUri)).json()) as JSONWebKeySet;

describe('startTokenMinter', () => {
  it('serves its JWKS and a discovery document', async () => {
    const doc = (await (await fetch(minter.discoveryUrl)).json()) as Record<string, unknown>;
    expect(doc).toEqual({ issuer: minter.issuer, jwks_uri: minter.jwksUri });
    const jwks = await fetchJwks();
    expect(jwks.keys.map((k) => k.kid).sort()).toEqual(Object.values(minter.kids).sort());
    for (const key of jwks.keys) {
      expect(key).not.toHaveProperty('d');
      expect(key.use).toBe('sig');
    }
  });

  it.each<MintAlg>(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'])(
    '%s tokens verify against the JWKS with jose',
    async (alg) => {
      const token = await minter.mint({ alg, claims: { sub: 'u1', aud: 'api' } });
      const jwks = createRemoteJWKSet(new URL(minter.jwksUri));
      const { payload, protectedHeader } = await jwtVerify(token, jwks, {
        issuer: minter.issuer,
        audience: 'api',
        algorithms: [alg],
      });
      expect(protectedHeader).toMatchObject({ alg, typ: 'JWT' });
      expect(payload.sub).toBe('u1');
      expect((payload.exp as number) - (payload.iat as number)).toBe(300);
    },
  );

  it('HS256 defaults to algorithm confusion: the HMAC secret is the RSA public key PEM', async () => {
    const token = await minter.mint({ alg: 'HS256', claims: { sub: 'attacker' } });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const secret = new TextEncoder().encode(minter.rsaPublicKeyPem);
    expect(minter.rsaPublicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const { payload } = await jwtVerify(token, secret);
    expect(payload.sub).toBe('attacker');
    // An asymmetric-only verifier must refuse it.
    await expect(jwtVerify(token, createLocalJWKSet(await fetchJwks()))).rejects.toThrow();
    const custom = await minter.mint({
      alg: 'HS384',
      hmacSecret: 'shared-secret-shared-secret-shared-secret-shared',
    });
    await expect(
      jwtVerify(custom, new TextEncoder().encode('shared-secret-shared-secret-shared-secret-shared')),
    ).resolves.toBeDefined();
  });

  it("'none' yields an unsigned token", async () => {
    const token = await minter.mint({ alg: 'none', claims: { sub: 'u' } });
    const [header, payload, signature] = token.split('.');
    expect(signature).toBe('');
    expect(JSON.parse(new TextDecoder().decode(base64url.decode(header as string)))).toEqual({
      alg: 'none',
      typ: 'JWT',
    });
    expect(JSON.parse(new TextDecoder().decode(base64url.decode(payload as string))).sub).toBe('u');
  });

  it('custom header (crit, typ, kid), removed defaults and expiry', async () => {
    const token = await minter.mint({
      claims: { sub: 'u', exp: undefined, nbf: 42 },
      header: { crit: ['urn:example:unknown'], 'urn:example:unknown': true, typ: 'at+jwt' },
      kid: 'ghost',
    });
    expect(decodeProtectedHeader(token)).toEqual({
      alg: 'RS256',
      typ: 'at+jwt',
      kid: 'ghost',
      crit: ['urn:example:unknown'],
      'urn:example:unknown': true,
    });
    const payload = decodePayload(token);
    expect(payload).not.toHaveProperty('exp');
    expect(payload.nbf).toBe(42);
    const expired = await minter.mint({ expiresInSeconds: -60 });
    await expect(jwtVerify(expired, createRemoteJWKSet(new URL(minter.jwksUri)))).rejects.toThrow(/exp/);
    const noTyp = await minter.mint({ header: { typ: undefined } });
    expect(decodeProtectedHeader(noTyp)).not.toHaveProperty('typ');
  });

  it('mintRaw signs arbitrary payload bytes', async () => {
    const token = await minter.mintRaw({ alg: 'ES256', kid: minter.kids.ec256 }, 'not json');
    expect(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).toBe('not json');
  });

  it('rejects unknown algorithms and bad options', async () => {
    await expect(minter.mint({ alg: 'RS1' as MintAlg })).rejects.toThrow(TypeError);
    await expect(minter.mint({ expiresInSeconds: Number.NaN })).rejects.toThrow('expiresInSeconds');
    await expect(startTokenMinter({ issuer: '' })).rejects.toThrow('options.issuer');
  });

  it('rotate() replaces every key; old kids leave the JWKS unless keepPrevious', async () => {
    const old = await minter.mint({ claims: { sub: 'u' } });
    const oldKids = Object.values(minter.kids);
    minter.rotate({ keepPrevious: true });
    const kept = (await fetchJwks()).keys.map((k) => k.kid);
    expect(kept).toEqual(expect.arrayContaining([...oldKids, ...Object.values(minter.kids)]));
    minter.rotate();
    const current = (await fetchJwks()).keys.map((k) => k.kid);
    expect(current.sort()).toEqual(Object.values(minter.kids).sort());
    for (const kid of oldKids) expect(current).not.toContain(kid);
    await expect(jwtVerify(old, createLocalJWKSet(await fetchJwks()))).rejects.toThrow();
    const fresh = await minter.mint({ claims: { sub: 'u' } });
    await expect(jwtVerify(fresh, createLocalJWKSet(await fetchJwks()))).resolves.toBeDefined();
  });

  it('counts JWKS hits, stops and starts the JWKS on the same port, and injects faults', async () => {
    const before = minter.jwksHits;
    await fetch(minter.jwksUri);
    await fetch(`${minter.origin}/.well-known/jwks.json`);
    await fetch(minter.discoveryUrl);
    expect(minter.jwksHits).toBe(before + 2);

    await minter.stopJwks();
    await expect(fetch(minter.jwksUri)).rejects.toThrow();
    await minter.startJwks();
    expect((await fetch(minter.jwksUri)).status).toBe(200);

    minter.setJwksFault('500');
    expect((await fetch(minter.jwksUri)).status).toBe(500);
    minter.setJwksFault(null);
    expect((await fetch(minter.jwksUri)).status).toBe(200);
    expect(() => minter.setJwksFault('nope' as never)).toThrow(TypeError);
  });

  it('uses a configured issuer', async () => {
    const other = await startTokenMinter({ issuer: 'https://issuer.test' });
    try {
      expect(decodePayload(await other.mint()).iss).toBe('https://issuer.test');
    } finally {
      await other.close();
    }
  });
});
