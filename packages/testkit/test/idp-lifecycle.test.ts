import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose';
import { oauthPost, startTestIdp, type TestIdp } from '../src/idp/index.js';

let idp: TestIdp;

beforeAll(async () => {
  idp = await startTestIdp();
});
afterAll(() => idp.close());

const fetchJwks = async (): Promise<JSONWebKeySet> =>
  (await (await fetch(idp.jwksUri)).json()) as JSONWebKeySet;
const kids = async () => (await fetchJwks()).keys.map((k) => k.kid);

describe('key rotation', () => {
  it('rotateKeys makes a new kid current, keeps the old one published, and pruneKeys drops it', async () => {
    const oldToken = await idp.issueAccessToken({ sub: 'alice' });
    const oldKid = idp.currentKid;
    expect(await kids()).toEqual([oldKid]);

    const before = idp.hits.jwks;
    const { kid, previousKid } = idp.rotateKeys();
    expect(previousKid).toBe(oldKid);
    expect(kid).not.toBe(oldKid);
    expect(idp.currentKid).toBe(kid);
    expect(await kids()).toEqual([kid, oldKid]);
    expect(idp.hits.jwks).toBe(before + 1);

    const newToken = await idp.issueAccessToken({ sub: 'alice' });
    expect(decodeProtectedHeader(newToken).kid).toBe(kid);
    const login = await idp.loginHeadless({});
    expect(decodeProtectedHeader(login.tokens.access_token).kid).toBe(kid);
    expect(decodeProtectedHeader(login.tokens.id_token as string).kid).toBe(kid);

    const published = createLocalJWKSet(await fetchJwks());
    await expect(jwtVerify(oldToken, published, { audience: idp.resource })).resolves.toBeDefined();
    await expect(jwtVerify(newToken, published, { audience: idp.resource })).resolves.toBeDefined();

    idp.pruneKeys();
    expect(await kids()).toEqual([kid]);
    const pruned = createLocalJWKSet(await fetchJwks());
    await expect(jwtVerify(oldToken, pruned, { audience: idp.resource })).rejects.toThrow();
  });

  it('rotateKeys({ retainPrevious: false }) removes the old kid at once; sessions and clients survive', async () => {
    const login = await idp.loginHeadless({});
    const { kid, previousKid } = idp.rotateKeys({ retainPrevious: false });
    expect(await kids()).toEqual([kid]);
    expect(await kids()).not.toContain(previousKid);
    // Refresh tokens issued before the rotation still work: the store outlives the provider rebuild.
    const res = await oauthPost(
      idp.tokenEndpoint,
      { grant_type: 'refresh_token', refresh_token: login.tokens.refresh_token as string },
      idp.clients.cli,
    );
    expect(res.status).toBe(200);
    expect(decodeProtectedHeader(res.json?.access_token as string).kid).toBe(kid);
  });
});

describe('stop / start', () => {
  it('refuses connections while stopped and comes back on the same port with its state', async () => {
    const opaque = await idp.issueAccessToken({ sub: 'alice', resource: idp.opaqueResource });
    const port = new URL(idp.issuer).port;
    await idp.stop();
    expect(idp.running).toBe(false);
    await expect(fetch(idp.jwksUri)).rejects.toThrow();
    await idp.start();
    expect(idp.running).toBe(true);
    expect(new URL(idp.issuer).port).toBe(port);
    expect((await fetch(idp.jwksUri)).status).toBe(200);
    const info = await oauthPost(idp.introspectionEndpoint, { token: opaque }, idp.clients.introspector);
    expect(info.json).toMatchObject({ active: true, sub: 'alice' });
  });

  it('releases requests held by a slow fault when stopped', async () => {
    idp.setFault('jwks', 'slow');
    const before = idp.hits.jwks;
    const pending = fetch(idp.jwksUri).then(
      (r) => r.status,
      () => 'failed',
    );
    while (idp.hits.jwks === before) await new Promise((r) => setImmediate(r));
    await idp.stop();
    expect(await pending).toBe('failed');
    idp.setFault('jwks', null);
    await idp.start();
    expect((await fetch(idp.jwksUri)).status).toBe(200);
  });
});

describe('metadata override and faults on other endpoints', () => {
  it('patches and removes discovery fields until cleared', async () => {
    idp.setMetadataOverride({ issuer: 'http://evil.test', code_challenge_methods_supported: undefined });
    try {
      for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
        const doc = (await (await fetch(`${idp.issuer}${path}`)).json()) as Record<string, unknown>;
        expect(doc.issuer).toBe('http://evil.test');
        expect('code_challenge_methods_supported' in doc).toBe(false);
        expect(doc.token_endpoint).toBe(idp.tokenEndpoint);
      }
    } finally {
      idp.setMetadataOverride(null);
    }
    const doc = (await (await fetch(idp.discoveryUrl)).json()) as Record<string, unknown>;
    expect(doc.issuer).toBe(idp.issuer);
    expect(doc.code_challenge_methods_supported).toEqual(['S256']);
  });

  it('faults the introspection and JWKS endpoints', async () => {
    idp.setFault('introspection', '503');
    idp.setFault('jwks', 'malformed');
    try {
      const res = await oauthPost(idp.introspectionEndpoint, { token: 'x' }, idp.clients.introspector);
      expect(res.status).toBe(503);
      const jwks = await fetch(idp.jwksUri);
      expect(jwks.status).toBe(200);
      await expect(jwks.json()).rejects.toThrow();
    } finally {
      idp.setFault('introspection', null);
      idp.setFault('jwks', null);
    }
    expect(
      (await oauthPost(idp.introspectionEndpoint, { token: 'x' }, idp.clients.introspector)).json,
    ).toEqual({
      active: false,
    });
  });
});

describe('options', () => {
  it('validates options', async () => {
    await expect(startTestIdp({ accessTokenTtlSeconds: -1 })).rejects.toThrow(
      'options.accessTokenTtlSeconds',
    );
    await expect(startTestIdp({ resource: 'not a url' })).rejects.toThrow('options.resource');
    await expect(startTestIdp({ scopes: ['a b'] })).rejects.toThrow('options.scopes');
  });
});
