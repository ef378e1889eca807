/**
 * RFC 7592 registration management: the DCR registration keeps its management data (store only),
 * and `forgetRegistration` deletes the client at the real testkit IdP (oidc-provider with
 * `registrationManagement`), then always drops the cached entry — also when the AS refuses or is down.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  detectRemoteAuth,
  forgetRegistration,
  loginWithAuthorizationCode,
  type RemoteAuthRequirement,
} from '@bastion-mcp/auth/client';
import { freePort } from '@bastion-mcp/testkit';
import { resolveClientIdentity } from '../../src/client/client-registration.js';
import { asMetadata, type MetadataServer, startMetadataServer } from './helpers/metadata-server.js';
import { startWorld, type World } from './helpers/world.js';

const keyOf = (issuer: string) =>
  `client:${createHash('sha256').update(issuer.replace(/\/+$/, '')).digest('hex').slice(0, 32)}`;

interface CachedRegistration {
  clientId: string;
  registrationClientUri?: string;
  registrationAccessToken?: string;
}

let w: World;
let auth: RemoteAuthRequirement;
let meta: MetadataServer;

beforeAll(async () => {
  w = await startWorld();
  const detected = await detectRemoteAuth(w.up.url);
  if (!detected.required) throw new Error('the upstream should require OAuth');
  auth = detected;
  meta = await startMetadataServer();
});
afterAll(async () => {
  await meta?.close();
  await w?.close();
});

async function login(name: string): Promise<CachedRegistration> {
  await loginWithAuthorizationCode({
    name,
    store: w.store,
    auth,
    callbackPort: await freePort(),
    onAuthorizationUrl: async (url) => void (await w.idp.authorize(url, { deliver: true })),
  });
  return (await w.store.get(keyOf(w.idp.issuer))) as CachedRegistration;
}

describe('forgetRegistration against the testkit IdP', () => {
  it('keeps the RFC 7592 management data of a DCR registration, encrypted in the store only', async () => {
    const reg = await login('mgmt');
    expect(reg.registrationClientUri).toBe(`${w.idp.issuer}/reg/${reg.clientId}`);
    expect(reg.registrationAccessToken).toEqual(expect.any(String));
    // The management token works at the AS (RFC 7592 read)...
    const read = await fetch(reg.registrationClientUri as string, {
      headers: { authorization: `Bearer ${reg.registrationAccessToken}` },
    });
    expect(read.status).toBe(200);
    expect(((await read.json()) as { client_id: string }).client_id).toBe(reg.clientId);
    // ...and is never written in clear text.
    for (const file of await readdir(w.dir)) {
      const bytes = await readFile(join(w.dir, file));
      expect(bytes.includes(Buffer.from(reg.registrationAccessToken as string))).toBe(false);
    }
  });

  it('DELETEs the client at the AS and drops the cached registration', async () => {
    const reg = (await w.store.get(keyOf(w.idp.issuer))) as CachedRegistration;
    const result = await forgetRegistration(w.store, w.idp.issuer);
    expect(result).toEqual({ hadRegistration: true, clientId: reg.clientId, server: 'deleted', status: 204 });
    expect(await w.store.get(keyOf(w.idp.issuer))).toBeUndefined();
    // The client no longer exists at the AS: its management token is dead, a login with it fails.
    const read = await fetch(reg.registrationClientUri as string, {
      headers: { authorization: `Bearer ${reg.registrationAccessToken}` },
    });
    expect(read.status).toBe(401);
    await expect(w.idp.loginHeadless({ clientId: reg.clientId })).rejects.toThrow();
  });

  it('registers a new client on the next login (nothing stale is reused)', async () => {
    const before = w.idp.hits.registration;
    const reg = await login('mgmt-again');
    expect(w.idp.hits.registration).toBe(before + 1);
    expect(reg.registrationAccessToken).toEqual(expect.any(String));
  });

  it('reports "none" when nothing is cached for the issuer', async () => {
    await forgetRegistration(w.store, w.idp.issuer);
    expect(await forgetRegistration(w.store, w.idp.issuer)).toEqual({
      hadRegistration: false,
      clientId: undefined,
      server: 'none',
    });
  });
});

describe('forgetRegistration when the AS cannot delete', () => {
  const issuer = () => meta.origin;
  const cache = (extra: Record<string, unknown>) =>
    w.store.set(keyOf(issuer()), {
      version: 1,
      issuer: issuer(),
      clientId: 'c-1',
      tokenEndpointAuthMethod: 'none',
      redirectUris: [],
      grantTypes: ['authorization_code'],
      registeredAt: Date.now(),
      ...extra,
    });

  it('forgets locally without a request when the registration has no management data', async () => {
    meta.clear();
    await cache({});
    expect(await forgetRegistration(w.store, issuer())).toEqual({
      hadRegistration: true,
      clientId: 'c-1',
      server: 'not_supported',
    });
    expect(meta.requests).toEqual([]);
    expect(await w.store.get(keyOf(issuer()))).toBeUndefined();
  });

  it('reports a 405 (deletion unsupported) and still drops the cache', async () => {
    meta.clear();
    meta.route('DELETE', '/reg/c-1', { status: 405, body: { error: 'invalid_request' } });
    await cache({ registrationClientUri: `${issuer()}/reg/c-1`, registrationAccessToken: 'rat-secret-1' });
    const result = await forgetRegistration(w.store, issuer());
    expect(result).toMatchObject({ hadRegistration: true, server: 'failed', status: 405 });
    expect(result.reason).toMatch(/does not support deleting/);
    expect(meta.requests).toEqual(['DELETE /reg/c-1']);
    expect(await w.store.get(keyOf(issuer()))).toBeUndefined();
  });

  it('reports an OAuth error answer without the token', async () => {
    meta.clear();
    meta.route('DELETE', '/reg/c-1', { status: 401, body: { error: 'invalid_token' } });
    await cache({ registrationClientUri: `${issuer()}/reg/c-1`, registrationAccessToken: 'rat-secret-2' });
    const result = await forgetRegistration(w.store, issuer());
    expect(result).toMatchObject({ server: 'failed', status: 401, reason: 'HTTP 401 (invalid_token)' });
    expect(JSON.stringify(result)).not.toContain('rat-secret-2');
    expect(await w.store.get(keyOf(issuer()))).toBeUndefined();
  });

  it('reports an unreachable AS as failed and still drops the cache', async () => {
    const closedPort = await freePort();
    await cache({
      registrationClientUri: `http://127.0.0.1:${closedPort}/reg/c-1`,
      registrationAccessToken: 'rat-secret-3',
    });
    const result = await forgetRegistration(w.store, issuer(), { timeoutMs: 2_000 });
    expect(result).toMatchObject({ hadRegistration: true, server: 'failed' });
    expect(result.reason).toMatch(/ECONNREFUSED/);
    expect(await w.store.get(keyOf(issuer()))).toBeUndefined();
  });

  it('refuses bad arguments with a TypeError', async () => {
    await expect(forgetRegistration(w.store, '')).rejects.toThrow(TypeError);
    await expect(forgetRegistration(w.store, issuer(), { timeoutMs: 0 })).rejects.toThrow(/timeoutMs/);
  });
});

describe('registration management data is only kept for the registration endpoint origin', () => {
  it('drops a registration_client_uri on another origin (the token is never sent elsewhere)', async () => {
    meta.clear();
    meta.route('POST', '/register', {
      status: 201,
      body: {
        client_id: 'c-foreign',
        registration_client_uri: 'https://elsewhere.example/reg/c-foreign',
        registration_access_token: 'rat-foreign',
      },
    });
    const as = asMetadata(meta.origin) as Parameters<typeof resolveClientIdentity>[0]['as'];
    const identity = await resolveClientIdentity({
      as,
      store: w.store,
      client: undefined,
      grantTypes: ['authorization_code'],
      redirectUri: 'http://127.0.0.1:33999/callback',
      fetch,
      timeoutMs: 5_000,
      allowInsecureHttp: false,
    });
    expect(identity.clientId).toBe('c-foreign');
    const cached = (await w.store.get(keyOf(meta.origin))) as CachedRegistration;
    expect(cached.clientId).toBe('c-foreign');
    expect(cached.registrationClientUri).toBeUndefined();
    expect(cached.registrationAccessToken).toBeUndefined();
    expect(await forgetRegistration(w.store, meta.origin)).toMatchObject({ server: 'not_supported' });
  });
});
