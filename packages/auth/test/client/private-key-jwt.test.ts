/**
 * Client credentials with `private_key_jwt` (RFC 7523 §2.2, SEP-1046) against the testkit's real
 * oidc-provider, whose `exchanger-jwt` client is registered with an ES256 public key.
 */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  detectRemoteAuth,
  loadClientAssertionKey,
  loginWithClientCredentials,
  OAuthClientErrorCode,
  OAuthSession,
  type RemoteAuthRequirement,
} from '@bastion-mcp/auth/client';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { expireStoredToken, listToolsWith, startWorld, storedTokens, type World } from './helpers/world.js';

let w: World;
let auth: RemoteAuthRequirement;
let jwkFile: string;
let pemFile: string;
let sec1File: string;

beforeAll(async () => {
  w = await startWorld();
  const detected = await detectRemoteAuth(w.up.url);
  if (!detected.required) throw new Error('the upstream should require OAuth');
  auth = detected;
  const jwk = w.idp.clients.exchangerJwt.privateJwk!;
  jwkFile = join(w.dir, 'client-key.jwk.json');
  await writeFile(jwkFile, JSON.stringify(jwk), { mode: 0o600 });
  const key = createPrivateKey({ key: jwk as never, format: 'jwk' });
  pemFile = join(w.dir, 'client-key.pem');
  await writeFile(pemFile, key.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  sec1File = join(w.dir, 'client-key-sec1.pem');
  await writeFile(sec1File, key.export({ format: 'pem', type: 'sec1' }), { mode: 0o600 });
});
afterAll(() => w.close());

const ccRequests = () =>
  w.idp.requests.filter((r) => r.endpoint === 'token' && r.grantType === 'client_credentials');

describe('client credentials with private_key_jwt', () => {
  it('authenticates with a signed assertion (iss = sub = client id, aud = issuer, short exp, jti) and the token works upstream', async () => {
    const clientId = w.idp.clients.exchangerJwt.clientId;
    const result = await loginWithClientCredentials({
      name: 'pkjwt',
      store: w.store,
      auth,
      client: { clientId },
      clientAssertionKey: { keyFile: jwkFile },
    });
    expect(result).toMatchObject({ grantType: 'client_credentials', clientId, clientSource: 'static' });
    const request = ccRequests().at(-1)!;
    expect(request.clientAuthMethod).toBe('private_key_jwt');
    expect(request.authorization).toBeUndefined();
    expect(request.params['client_assertion_type']).toBe(
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    );
    const assertion = String(request.params['client_assertion']);
    const header = decodeProtectedHeader(assertion);
    expect(header).toMatchObject({ alg: 'ES256', kid: w.idp.clients.exchangerJwt.privateJwk!.kid });
    const claims = decodeJwt(assertion);
    expect(claims).toMatchObject({ iss: clientId, sub: clientId, aud: w.idp.issuer });
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(60);
    expect(typeof claims.jti).toBe('string');
    const tokens = await storedTokens(w.store, 'pkjwt');
    expect(await listToolsWith(w.up.url, tokens!.accessToken)).toContain('echo');
  });

  it('stores the key path, never the key, and signs a fresh assertion when the session re-runs the grant', async () => {
    const entry = JSON.stringify(await w.store.get('tokens:pkjwt'));
    expect(entry).toContain(jwkFile);
    expect(entry).not.toContain(String(w.idp.clients.exchangerJwt.privateJwk!.d));
    const before = ccRequests().length;
    const firstJti = decodeJwt(String(ccRequests().at(-1)!.params['client_assertion'])).jti;
    await expireStoredToken(w.store, 'pkjwt');
    const session = await OAuthSession.open({ name: 'pkjwt', store: w.store });
    try {
      const token = await session.getAccessToken();
      expect(ccRequests().length).toBe(before + 1);
      const renewed = ccRequests().at(-1)!;
      expect(renewed.clientAuthMethod).toBe('private_key_jwt');
      expect(decodeJwt(String(renewed.params['client_assertion'])).jti).not.toBe(firstJti);
      expect(await listToolsWith(w.up.url, token)).toContain('echo');
    } finally {
      session.close();
    }
  });

  it('reads PKCS#8 and SEC1 PEM keys (alg from the curve, kid as given)', async () => {
    for (const keyFile of [pemFile, sec1File]) {
      const loaded = await loadClientAssertionKey({ keyFile, kid: 'exchanger-jwt-1' });
      expect(loaded).toMatchObject({ alg: 'ES256', kid: 'exchanger-jwt-1' });
    }
    await loginWithClientCredentials({
      name: 'pkjwt-pem',
      store: w.store,
      auth,
      client: { clientId: w.idp.clients.exchangerJwt.clientId },
      clientAssertionKey: { keyFile: pemFile, kid: 'exchanger-jwt-1' },
    });
    expect(ccRequests().at(-1)!.clientAuthMethod).toBe('private_key_jwt');
  });

  it('surfaces invalid_client when the key is not the registered one (not transient)', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const wrongFile = join(w.dir, 'wrong-key.pem');
    await writeFile(wrongFile, other.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    const error = await loginWithClientCredentials({
      name: 'pkjwt-wrong',
      store: w.store,
      auth,
      client: { clientId: w.idp.clients.exchangerJwt.clientId },
      clientAssertionKey: { keyFile: wrongFile },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: OAuthClientErrorCode.TokenRequest,
      oauthError: 'invalid_client',
      retryable: false,
    });
    expect(await w.store.get('tokens:pkjwt-wrong')).toBeUndefined();
  });

  it('fails before any request when the key file is missing, public, or does not fit the algorithm', async () => {
    const before = ccRequests().length;
    const publicFile = join(w.dir, 'public.jwk.json');
    const { d: _d, ...publicJwk } = w.idp.clients.exchangerJwt.privateJwk!;
    await writeFile(publicFile, JSON.stringify(publicJwk));
    const cases: Array<[{ keyFile: string; alg?: string }, RegExp]> = [
      [{ keyFile: join(w.dir, 'nope.pem') }, /cannot be read \(ENOENT\)/],
      [{ keyFile: publicFile }, /public JWK/],
      [{ keyFile: pemFile, alg: 'RS256' }, /cannot sign RS256/],
    ];
    for (const [spec, message] of cases) {
      const error = await loginWithClientCredentials({
        name: 'pkjwt-bad',
        store: w.store,
        auth,
        client: { clientId: w.idp.clients.exchangerJwt.clientId },
        clientAssertionKey: spec,
      }).catch((e: unknown) => e as Error);
      expect(error).toMatchObject({ code: OAuthClientErrorCode.ClientAssertionKey });
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toContain(spec.keyFile);
    }
    expect(ccRequests().length).toBe(before);
  });

  it('rejects a key together with a secret, or without a client id', async () => {
    await expect(
      loginWithClientCredentials({
        name: 'pkjwt-opts',
        store: w.store,
        auth,
        client: { clientId: 'x', clientSecret: 'y' },
        clientAssertionKey: { keyFile: pemFile },
      }),
    ).rejects.toThrow(/exclusive/);
    await expect(
      loginWithClientCredentials({
        name: 'pkjwt-opts',
        store: w.store,
        auth,
        clientAssertionKey: { keyFile: pemFile },
      }),
    ).rejects.toThrow(/needs "client.clientId"/);
  });
});
