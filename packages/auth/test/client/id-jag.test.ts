/**
 * Enterprise-managed authorization (SEP-990) with two real testkit IdPs (oidc-provider): the
 * enterprise IdP signs the user in (ID token) and issues ID-JAGs by token exchange; the MCP
 * server's authorization server trusts it and accepts the ID-JAG in a JWT-bearer grant.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  detectRemoteAuth,
  ID_JAG_TOKEN_TYPE,
  ID_TOKEN_TYPE,
  JWT_BEARER_GRANT,
  loginWithIdJag,
  OAuthClientErrorCode,
  OAuthSession,
  type RemoteAuthRequirement,
  TOKEN_EXCHANGE_GRANT,
} from '@bastion-mcp/auth/client';
import { startTestIdp, type TestIdp } from '@bastion-mcp/testkit';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { expireStoredToken, listToolsWith, startWorld, storedTokens, type World } from './helpers/world.js';

let w: World;
let enterprise: TestIdp;
let auth: RemoteAuthRequirement;
/** Bastion's public client at the enterprise IdP (sign-in + token exchange). */
let idpClientId: string;
/** Bastion's confidential client at the MCP server's AS (JWT-bearer grant). */
let asClient: { clientId: string; clientSecret: string };
let idTokenFile: string;
let idToken: string;

async function register(idp: TestIdp, metadata: Record<string, unknown>) {
  const res = await fetch(idp.registrationEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(metadata),
  });
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as { client_id: string; client_secret?: string };
}

const exchanges = () => enterprise.requests.filter((r) => r.grantType === TOKEN_EXCHANGE_GRANT);
const bearerGrants = () => w.idp.requests.filter((r) => r.grantType === JWT_BEARER_GRANT);

beforeAll(async () => {
  w = await startWorld();
  enterprise = await startTestIdp();
  const detected = await detectRemoteAuth(w.up.url);
  if (!detected.required) throw new Error('the upstream should require OAuth');
  auth = detected;
  idpClientId = (
    await register(enterprise, {
      application_type: 'native',
      grant_types: ['authorization_code', TOKEN_EXCHANGE_GRANT],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
      token_endpoint_auth_method: 'none',
    })
  ).client_id;
  const reg = await register(w.idp, {
    grant_types: [JWT_BEARER_GRANT],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
  });
  asClient = { clientId: reg.client_id, clientSecret: reg.client_secret! };
  w.idp.assertionGrants.trustIssuer(enterprise.issuer, enterprise.jwksUri);
  enterprise.assertionGrants.setIdJagClient(w.idp.issuer, asClient.clientId);
  // The user signs in at the enterprise IdP (what the enterprise SSO login leaves behind).
  const login = await enterprise.loginHeadless({
    clientId: idpClientId,
    scope: 'openid email',
    resource: null,
  });
  idToken = login.tokens.id_token!;
  idTokenFile = join(w.dir, 'id-token.jwt');
  await writeFile(idTokenFile, idToken, { mode: 0o600 });
});
afterAll(async () => {
  await enterprise.close();
  await w.close();
});

const login = (name: string, idp: Partial<Parameters<typeof loginWithIdJag>[0]['idp']> = {}) =>
  loginWithIdJag({
    name,
    store: w.store,
    auth,
    client: asClient,
    idp: { issuer: enterprise.issuer, client: { clientId: idpClientId }, idTokenFile, ...idp },
  });

describe('enterprise-managed authorization (ID-JAG)', () => {
  it('exchanges the ID token for an ID-JAG at the IdP, then the ID-JAG for a token that works upstream', async () => {
    const result = await login('ema');
    expect(result).toMatchObject({ grantType: 'id_jag', clientId: asClient.clientId, issuer: w.idp.issuer });

    const exchange = exchanges().at(-1)!;
    expect(exchange.params).toMatchObject({
      subject_token: idToken,
      subject_token_type: ID_TOKEN_TYPE,
      requested_token_type: ID_JAG_TOKEN_TYPE,
      audience: w.idp.issuer,
      resource: w.resource,
      client_id: idpClientId,
    });
    const grant = bearerGrants().at(-1)!;
    expect(grant.clientAuthMethod).toBe('client_secret_basic');
    expect(grant.clientId).toBe(asClient.clientId);
    const jag = String(grant.params['assertion']);
    expect(decodeProtectedHeader(jag).typ).toBe('oauth-id-jag+jwt');
    expect(decodeJwt(jag)).toMatchObject({
      iss: enterprise.issuer,
      aud: w.idp.issuer,
      client_id: asClient.clientId,
      resource: w.resource,
      sub: 'alice',
    });
    const tokens = await storedTokens(w.store, 'ema');
    expect(await listToolsWith(w.up.url, tokens!.accessToken)).toContain('echo');
    const entry = JSON.stringify(await w.store.get('tokens:ema'));
    expect(entry).toContain(idTokenFile);
    expect(entry).not.toContain(idToken);
  });

  it('repeats both steps when the session renews an expired token', async () => {
    await expireStoredToken(w.store, 'ema');
    const [x, b] = [exchanges().length, bearerGrants().length];
    const session = await OAuthSession.open({ name: 'ema', store: w.store });
    try {
      const token = await session.getAccessToken();
      expect([exchanges().length, bearerGrants().length]).toEqual([x + 1, b + 1]);
      expect(await listToolsWith(w.up.url, token)).toContain('echo');
    } finally {
      session.close();
    }
  });

  it('uses a configured token endpoint without discovery', async () => {
    const discoveries = enterprise.hits.discovery;
    await login('ema-endpoint', { issuer: undefined, tokenEndpoint: enterprise.tokenEndpoint });
    expect(enterprise.hits.discovery).toBe(discoveries);
    expect(exchanges().at(-1)!.params['audience']).toBe(w.idp.issuer);
  });

  it('names the IdP when it is down (transient), at login and in a running session', async () => {
    await enterprise.stop();
    try {
      const [x, b] = [exchanges().length, bearerGrants().length];
      const error = await login('ema-down', {
        issuer: undefined,
        tokenEndpoint: enterprise.tokenEndpoint,
      }).catch((e: unknown) => e as Error);
      expect(error).toMatchObject({ code: OAuthClientErrorCode.AsUnavailable, retryable: true });
      expect((error as Error).message).toContain(`enterprise IdP ${enterprise.issuer}`);
      expect([exchanges().length, bearerGrants().length]).toEqual([x, b]);

      await expireStoredToken(w.store, 'ema');
      const session = await OAuthSession.open({ name: 'ema', store: w.store });
      try {
        const failed = await session.getAccessToken().catch((e: unknown) => e as Error);
        expect(failed).toMatchObject({ code: OAuthClientErrorCode.AsUnavailable });
        expect((failed as Error).message).toContain(`enterprise IdP ${enterprise.issuer}`);
        expect(session.status).toBe('auth_retrying');
      } finally {
        session.close();
      }
    } finally {
      await enterprise.start();
    }
  });

  it('surfaces the IdP rejecting the ID token, without a JWT-bearer request', async () => {
    const forged = join(w.dir, 'forged-id-token.jwt');
    const [h, p] = idToken.split('.');
    await writeFile(forged, `${h}.${p}.${Buffer.from('not the signature').toString('base64url')}`);
    const b = bearerGrants().length;
    const error = await login('ema-forged', { idTokenFile: forged }).catch((e: unknown) => e as Error);
    expect(error).toMatchObject({ code: OAuthClientErrorCode.InvalidGrant, oauthError: 'invalid_grant' });
    expect((error as Error).message).toContain(`enterprise IdP ${enterprise.issuer}`);
    expect(bearerGrants().length).toBe(b);
  });

  it('surfaces the AS rejecting the ID-JAG when it does not trust the IdP', async () => {
    w.idp.assertionGrants.distrustIssuer(enterprise.issuer);
    try {
      await expect(login('ema-untrusted')).rejects.toMatchObject({
        code: OAuthClientErrorCode.InvalidGrant,
        message: expect.stringContaining('with the ID-JAG'),
      });
    } finally {
      w.idp.assertionGrants.trustIssuer(enterprise.issuer, enterprise.jwksUri);
    }
  });

  it('rejects incomplete IdP options', async () => {
    await expect(login('ema-opts', { issuer: undefined })).rejects.toThrow(
      /idp.issuer" or "idp.tokenEndpoint/,
    );
    await expect(login('ema-opts', { client: {} })).rejects.toThrow(/idp.client.clientId/);
  });
});
