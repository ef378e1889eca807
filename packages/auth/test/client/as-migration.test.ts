/**
 * Authorization server migration (SEP-2352) against two real testkit IdPs (oidc-provider): the
 * remote's PRM switches from AS1 to AS2 and it then only accepts AS2's tokens. Re-discovery tells
 * the issuer changed; the new login registers with AS2 and never presents AS1's client or tokens.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  checkAuthorizationServer,
  createTokenStore,
  detectRemoteAuth,
  discardTokens,
  getStoredGrantInfo,
  loginWithAuthorizationCode,
  OAuthClientErrorCode,
  OAuthSession,
  type RemoteAuthRequirement,
  type TokenStore,
} from '@bastion-mcp/auth/client';
import {
  freePort,
  type McpUpstream,
  startMcpUpstream,
  startTestIdp,
  type TestIdp,
} from '@bastion-mcp/testkit';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { expireStoredToken, listToolsWith, storedTokens } from './helpers/world.js';

let as1: TestIdp;
let as2: TestIdp;
let up: McpUpstream;
let store: TokenStore;
let dir: string;
let resource: string;
/** The PRM `authorization_servers` (the upstream reads this array on every PRM request). */
const servers: string[] = [];
/** The issuer whose tokens the remote accepts. */
let accepted: TestIdp;
/** One callback port for every login, so a cached registration (same redirect URI) can be reused. */
let callbackPort: number;

beforeAll(async () => {
  as1 = await startTestIdp();
  as2 = await startTestIdp();
  const jwks = new Map([as1, as2].map((idp) => [idp, createRemoteJWKSet(new URL(idp.jwksUri))]));
  const port = await freePort();
  const prmUrl = `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`;
  servers.push(as1.issuer);
  accepted = as1;
  up = await startMcpUpstream({
    port,
    authorizationServers: servers,
    wwwAuthenticate: `Bearer error="invalid_token", resource_metadata="${prmUrl}", scope="mcp:tools"`,
    requireAuth: async (req) => {
      const header = req.headers.authorization;
      if (typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
      try {
        await jwtVerify(header.slice(7), jwks.get(accepted)!, {
          issuer: accepted.issuer,
          audience: resource,
        });
        return true;
      } catch {
        return false;
      }
    },
  });
  resource = `${up.origin}/mcp`;
  callbackPort = await freePort();
  for (const idp of [as1, as2]) idp.addResource(resource, { format: 'jwt', scopes: ['mcp:tools'] });
  dir = await mkdtemp(join(tmpdir(), 'bastion-as-migration-'));
  store = await createTokenStore({ dir, useKeyring: false });
});
afterAll(async () => {
  await up.close();
  await as1.close();
  await as2.close();
  await rm(dir, { recursive: true, force: true });
});

async function login(idp: TestIdp, auth: RemoteAuthRequirement, seen: URL[] = []) {
  return loginWithAuthorizationCode({
    name: 'moving',
    store,
    auth,
    // The IdP grants nothing to a scope-less request; a 401 without a challenge names no scope.
    scopes: auth.scopes ?? ['mcp:tools'],
    callbackPort,
    onAuthorizationUrl: async (url) => {
      seen.push(new URL(url));
      await idp.authorize(url, { deliver: true });
    },
  });
}

async function token(): Promise<string> {
  const session = await OAuthSession.open({ name: 'moving', store });
  try {
    return await session.getAccessToken();
  } finally {
    session.close();
  }
}

describe('authorization server migration', () => {
  let as1ClientId: string;
  let as1RefreshToken: string;

  it('logs in at AS1 and reports no change while the PRM still names AS1', async () => {
    const detected = await detectRemoteAuth(up.url);
    if (!detected.required) throw new Error('the upstream should require OAuth');
    const result = await login(as1, detected);
    as1ClientId = result.clientId;
    as1RefreshToken = (await storedTokens(store, 'moving'))!.refreshToken!;
    expect(await listToolsWith(up.url, await token())).toContain('echo');

    up.clearRequests();
    const metadataHits = as1.hits.discovery;
    expect(await checkAuthorizationServer(store, 'moving')).toEqual({ changed: false, issuer: as1.issuer });
    // One PRM request at the URL found at login, no AS metadata request.
    expect(up.requests.map((r) => r.path)).toEqual(['/.well-known/oauth-protected-resource/mcp']);
    expect(as1.hits.discovery).toBe(metadataHits);
  });

  it('counts a PRM listing several servers as unchanged while the grant issuer is among them', async () => {
    servers.splice(0, servers.length, as2.issuer, as1.issuer);
    try {
      expect(await checkAuthorizationServer(store, 'moving')).toMatchObject({ changed: false });
    } finally {
      servers.splice(0, servers.length, as1.issuer);
    }
  });

  it('detects the move to AS2, and the new login registers at AS2 without AS1 credentials', async () => {
    servers.splice(0, servers.length, as2.issuer);
    accepted = as2;
    const stale = await token();
    expect(await listToolsWith(up.url, stale).catch((e: unknown) => e)).toBeInstanceOf(Error);

    const check = await checkAuthorizationServer(store, 'moving', {
      wwwAuthenticate: `Bearer error="invalid_token", resource_metadata="${up.origin}/.well-known/oauth-protected-resource/mcp"`,
    });
    if (!check.changed) throw new Error('the issuer change was not detected');
    expect(check).toMatchObject({
      previousIssuer: as1.issuer,
      previousClientSource: 'dcr',
      previousScopes: ['mcp:tools'],
      issuer: as2.issuer,
      auth: { authorizationServer: { issuer: as2.issuer }, resource },
    });

    expect(await discardTokens(store, 'moving')).toBe(true);
    const dropped = await OAuthSession.open({ name: 'moving', store });
    expect(dropped.status).toBe('unauthenticated');
    dropped.close();

    const as1Token = as1.hits.token;
    const seen: URL[] = [];
    const result = await login(as2, check.auth, seen);
    expect(result).toMatchObject({ issuer: as2.issuer, clientSource: 'dcr' });
    expect(result.clientId).not.toBe(as1ClientId);
    expect(as2.hits.registration).toBe(1);
    expect(seen[0]?.origin).toBe(as2.issuer);
    expect(seen[0]?.searchParams.get('client_id')).toBe(result.clientId);
    expect(await listToolsWith(up.url, await token())).toContain('echo');

    // A refresh goes to AS2 with AS2's client.
    await expireStoredToken(store, 'moving');
    await token();
    const refresh = as2.requests.filter((r) => r.grantType === 'refresh_token');
    expect(refresh).toHaveLength(1);
    expect(refresh[0]?.clientId).toBe(result.clientId);

    // Nothing of AS1 ever reached AS2, and AS1 saw no token request after the move.
    const sentToAs2 = JSON.stringify(as2.requests);
    expect(sentToAs2).not.toContain(as1ClientId);
    expect(sentToAs2).not.toContain(as1RefreshToken);
    expect(as1.hits.token).toBe(as1Token);
    expect(await getStoredGrantInfo(store, 'moving')).toMatchObject({ issuer: as2.issuer, hasTokens: true });
    expect(await checkAuthorizationServer(store, 'moving')).toEqual({ changed: false, issuer: as2.issuer });
  });

  it('moving back reuses the registration cached for AS1, never AS2 client', async () => {
    const as2ClientId = (await getStoredGrantInfo(store, 'moving'))!.clientId;
    servers.splice(0, servers.length, as1.issuer);
    accepted = as1;
    const check = await checkAuthorizationServer(store, 'moving');
    if (!check.changed) throw new Error('the move back was not detected');
    expect(check.previousIssuer).toBe(as2.issuer);
    const registrations = as1.hits.registration;
    const result = await login(as1, check.auth);
    expect(result.clientId).toBe(as1ClientId);
    expect(as1.hits.registration).toBe(registrations);
    expect(JSON.stringify(as1.requests)).not.toContain(as2ClientId);
    expect(await listToolsWith(up.url, await token())).toContain('echo');
  });

  it('fails with unauthenticated for a workload that never logged in', async () => {
    await expect(checkAuthorizationServer(store, 'nobody')).rejects.toMatchObject({
      code: OAuthClientErrorCode.Unauthenticated,
    });
  });

  it('reports discovery failures instead of guessing a change', async () => {
    const unreachable = await startTestIdp();
    servers.splice(0, servers.length, unreachable.issuer);
    await unreachable.close();
    try {
      await expect(checkAuthorizationServer(store, 'moving')).rejects.toMatchObject({
        code: OAuthClientErrorCode.Network,
      });
    } finally {
      servers.splice(0, servers.length, as1.issuer);
    }
  });
});
