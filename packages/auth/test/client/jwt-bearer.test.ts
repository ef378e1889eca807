/**
 * RFC 7523 JWT-bearer grant for workload identity (SEP-1933) against the testkit's real
 * oidc-provider, trusting workload JWTs from the testkit's token minter (standing in for a
 * Kubernetes / cloud OIDC issuer).
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  detectRemoteAuth,
  JWT_BEARER_GRANT,
  loginWithJwtBearer,
  OAuthClientErrorCode,
  OAuthSession,
  type RemoteAuthRequirement,
  ReauthenticationRequiredError,
} from '@bastion-mcp/auth/client';
import { startTokenMinter, type TokenMinter } from '@bastion-mcp/testkit';
import { expireStoredToken, listToolsWith, startWorld, storedTokens, type World } from './helpers/world.js';

let w: World;
let minter: TokenMinter;
let auth: RemoteAuthRequirement;
let clientId: string;
let assertionFile: string;

/** A workload JWT of the minter (a projected service-account token) for the IdP. */
const workloadJwt = (options: { expiresInSeconds?: number; aud?: string } = {}) =>
  minter.mint({
    claims: { sub: 'system:serviceaccount:mcp:agent', aud: options.aud ?? w.idp.issuer },
    expiresInSeconds: options.expiresInSeconds ?? 300,
  });

const bearerRequests = () => w.idp.requests.filter((r) => r.endpoint === 'token');

beforeAll(async () => {
  w = await startWorld();
  minter = await startTokenMinter();
  w.idp.assertionGrants.trustIssuer(minter.issuer, minter.jwksUri);
  const detected = await detectRemoteAuth(w.up.url);
  if (!detected.required) throw new Error('the upstream should require OAuth');
  auth = detected;
  // The workload's client at the IdP: public, allowed only the JWT-bearer grant (registered through DCR).
  const res = await fetch(w.idp.registrationEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      grant_types: [JWT_BEARER_GRANT],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'none',
    }),
  });
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${await res.text()}`);
  clientId = ((await res.json()) as { client_id: string }).client_id;
  assertionFile = join(w.dir, 'workload.jwt');
});
afterAll(async () => {
  await minter.close();
  await w.close();
});

describe('JWT-bearer grant (workload identity)', () => {
  it('exchanges the workload JWT from the file for a token that works upstream', async () => {
    const jwt = await workloadJwt();
    await writeFile(assertionFile, `${jwt}\n`);
    const result = await loginWithJwtBearer({
      name: 'wif',
      store: w.store,
      auth,
      client: { clientId },
      assertionFile,
    });
    expect(result).toMatchObject({ grantType: 'jwt_bearer', clientId, resource: w.resource });
    const request = bearerRequests().at(-1)!;
    expect(request.grantType).toBe(JWT_BEARER_GRANT);
    expect(request.params['assertion']).toBe(jwt);
    expect(request.params['client_id']).toBe(clientId);
    expect(request.params['resource']).toBe(w.resource);
    const tokens = await storedTokens(w.store, 'wif');
    expect(await listToolsWith(w.up.url, tokens!.accessToken)).toContain('echo');
    // Only the path is stored: the workload token is read again at every request.
    const entry = JSON.stringify(await w.store.get('tokens:wif'));
    expect(entry).toContain(assertionFile);
    expect(entry).not.toContain(jwt);
  });

  it('re-reads the rotated assertion file when the session renews the token', async () => {
    const rotated = await workloadJwt();
    await writeFile(assertionFile, rotated);
    await expireStoredToken(w.store, 'wif');
    const before = bearerRequests().length;
    const session = await OAuthSession.open({ name: 'wif', store: w.store });
    try {
      const token = await session.getAccessToken();
      expect(bearerRequests().length).toBe(before + 1);
      expect(bearerRequests().at(-1)!.params['assertion']).toBe(rotated);
      expect(await listToolsWith(w.up.url, token)).toContain('echo');
    } finally {
      session.close();
    }
  });

  it('surfaces invalid_grant for an expired workload JWT: one request, no retry, no other grant', async () => {
    await writeFile(assertionFile, await workloadJwt({ expiresInSeconds: -60 }));
    const before = bearerRequests().length;
    const error = await loginWithJwtBearer({
      name: 'wif-expired',
      store: w.store,
      auth,
      client: { clientId },
      assertionFile,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: OAuthClientErrorCode.InvalidGrant, oauthError: 'invalid_grant' });
    expect(
      bearerRequests()
        .slice(before)
        .map((r) => r.grantType),
    ).toEqual([JWT_BEARER_GRANT]);
    expect(await w.store.get('tokens:wif-expired')).toBeUndefined();
  });

  it('surfaces invalid_scope and a JWT for another audience without retrying', async () => {
    await writeFile(assertionFile, await workloadJwt());
    let before = bearerRequests().length;
    await expect(
      loginWithJwtBearer({
        name: 'wif-scope',
        store: w.store,
        auth,
        client: { clientId },
        assertionFile,
        scopes: ['mcp:nope'],
      }),
    ).rejects.toMatchObject({ code: OAuthClientErrorCode.TokenRequest, oauthError: 'invalid_scope' });
    expect(bearerRequests().length).toBe(before + 1);

    await writeFile(assertionFile, await workloadJwt({ aud: 'https://wrong.example' }));
    before = bearerRequests().length;
    await expect(
      loginWithJwtBearer({ name: 'wif-aud', store: w.store, auth, client: { clientId }, assertionFile }),
    ).rejects.toMatchObject({ code: OAuthClientErrorCode.InvalidGrant });
    expect(bearerRequests().length).toBe(before + 1);
  });

  it('a session whose workload JWT expired becomes unauthenticated after one rejected request', async () => {
    await writeFile(assertionFile, await workloadJwt({ expiresInSeconds: -60 }));
    await expireStoredToken(w.store, 'wif');
    const before = bearerRequests().length;
    const session = await OAuthSession.open({ name: 'wif', store: w.store });
    try {
      const error = await session.getAccessToken().catch((e: unknown) => e as Error);
      expect(error).toBeInstanceOf(ReauthenticationRequiredError);
      expect((error as Error).message).toMatch(/JWT-bearer token request was rejected with invalid_grant/);
      expect(session.status).toBe('unauthenticated');
      expect(bearerRequests().length).toBe(before + 1);
      expect(await storedTokens(w.store, 'wif')).toBeUndefined();
    } finally {
      session.close();
    }
  });

  it('fails before any request when the assertion file is missing or holds no JWT', async () => {
    const before = bearerRequests().length;
    const missing = join(w.dir, 'missing.jwt');
    await rm(missing, { force: true });
    await expect(
      loginWithJwtBearer({
        name: 'wif-file',
        store: w.store,
        auth,
        client: { clientId },
        assertionFile: missing,
      }),
    ).rejects.toMatchObject({
      code: OAuthClientErrorCode.Assertion,
      message: expect.stringContaining(missing),
    });
    const garbage = join(w.dir, 'garbage.jwt');
    await writeFile(garbage, 'not a token\n');
    await expect(
      loginWithJwtBearer({
        name: 'wif-file',
        store: w.store,
        auth,
        client: { clientId },
        assertionFile: garbage,
      }),
    ).rejects.toMatchObject({ code: OAuthClientErrorCode.Assertion });
    expect(bearerRequests().length).toBe(before);
  });

  it('is refused with invalid_grant when the IdP does not trust the workload issuer', async () => {
    await writeFile(assertionFile, await workloadJwt());
    w.idp.assertionGrants.distrustIssuer(minter.issuer);
    try {
      await expect(
        loginWithJwtBearer({
          name: 'wif-untrusted',
          store: w.store,
          auth,
          client: { clientId },
          assertionFile,
        }),
      ).rejects.toMatchObject({ code: OAuthClientErrorCode.InvalidGrant });
    } finally {
      w.idp.assertionGrants.trustIssuer(minter.issuer, minter.jwksUri);
    }
  });
});
