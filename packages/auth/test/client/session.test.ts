import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createTokenStore,
  detectRemoteAuth,
  getStoredGrantInfo,
  forgetWorkload,
  loginWithAuthorizationCode,
  OAuthClientErrorCode,
  OAuthSession,
  type OAuthStatusChange,
  ReauthenticationRequiredError,
  type RemoteAuthRequirement,
} from '@bastion-mcp/auth/client';
import { expireStoredToken, listToolsWith, startWorld, storedTokens, type World } from './helpers/world.js';

let w: World;
let auth: RemoteAuthRequirement;

beforeAll(async () => {
  w = await startWorld({ ttlSeconds: 300 });
  const detected = await detectRemoteAuth(w.up.url);
  if (!detected.required) throw new Error('the upstream should require OAuth');
  auth = detected;
});
afterAll(() => w.close());

async function login(name: string, username = 'alice'): Promise<void> {
  await loginWithAuthorizationCode({
    name,
    store: w.store,
    auth,
    client: { clientId: w.idp.clients.cli.clientId },
    callbackPort: 0,
    onAuthorizationUrl: async (url) => void (await w.idp.authorize(url, { username, deliver: true })),
  });
}

function refreshRequests(): number {
  return w.idp.requests.filter((r) => r.grantType === 'refresh_token').length;
}

function waitForStatus(session: OAuthSession, status: string): Promise<OAuthStatusChange> {
  return new Promise((resolve) => {
    const off = session.onStatusChange((change) => {
      if (change.status === status) {
        off();
        resolve(change);
      }
    });
  });
}

describe('OAuthSession', () => {
  it('refreshes silently before expiry, saves the rotated refresh token and sends resource', async () => {
    await login('refresh');
    const before = await storedTokens(w.store, 'refresh');
    // refreshSkewMs larger than the token lifetime: the token counts as due for refresh right away.
    const session = await OAuthSession.open({ name: 'refresh', store: w.store, refreshSkewMs: 400_000 });
    const count = refreshRequests();
    const token = await session.getAccessToken();
    expect(refreshRequests()).toBe(count + 1);
    expect(token).not.toBe(before?.accessToken);
    const after = await storedTokens(w.store, 'refresh');
    expect(after?.accessToken).toBe(token);
    expect(after?.refreshToken).toBeDefined();
    expect(after?.refreshToken).not.toBe(before?.refreshToken); // rotated and saved
    const req = w.idp.requests.filter((r) => r.grantType === 'refresh_token').at(-1);
    expect(req?.params['resource']).toBe(w.resource);
    expect(await listToolsWith(w.up.url, token)).toContain('echo');
    // The rotated token keeps working: a second refresh succeeds with it.
    await expect(session.getAccessToken()).resolves.toEqual(expect.any(String));
    expect(session.status).toBe('authenticated');
    session.close();
  });

  it('refreshes when a short expires_in comes within the skew, not before', async () => {
    w.idp.addResource(w.resource, { format: 'jwt', scopes: ['mcp:tools'], ttlSeconds: 3 });
    try {
      await login('short');
      const first = await storedTokens(w.store, 'short');
      expect(first?.expiresAt).toBeDefined();
      const session = await OAuthSession.open({ name: 'short', store: w.store, refreshSkewMs: 1_500 });
      const count = refreshRequests();
      await expect(session.getAccessToken()).resolves.toBe(first?.accessToken);
      expect(refreshRequests()).toBe(count);
      // Wait until the token enters the skew window (derived from the real expires_in).
      await new Promise((r) => setTimeout(r, Math.max(0, first!.expiresAt! - 1_500 - Date.now()) + 50));
      const next = await session.getAccessToken();
      expect(next).not.toBe(first?.accessToken);
      expect(refreshRequests()).toBe(count + 1);
      session.close();
    } finally {
      w.idp.addResource(w.resource, { format: 'jwt', scopes: ['mcp:tools'], ttlSeconds: 300 });
    }
  });

  it('hands out the stored token without contacting the AS while it is fresh', async () => {
    await login('fresh');
    const session = await OAuthSession.open({ name: 'fresh', store: w.store });
    const count = refreshRequests();
    const stored = await storedTokens(w.store, 'fresh');
    await expect(session.getAccessToken()).resolves.toBe(stored?.accessToken);
    expect(refreshRequests()).toBe(count);
    session.close();
  });

  it('keeps the old refresh token when the AS answers without one', async () => {
    await login('keep');
    const before = await storedTokens(w.store, 'keep');
    // Strips refresh_token from token responses, as ASes without rotation do.
    const stripping: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).startsWith(w.idp.tokenEndpoint) || res.status !== 200) return res;
      const body = (await res.json()) as Record<string, unknown>;
      delete body['refresh_token'];
      return new Response(JSON.stringify(body), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    };
    await expireStoredToken(w.store, 'keep');
    const session = await OAuthSession.open({ name: 'keep', store: w.store, fetch: stripping });
    const token = await session.getAccessToken();
    const after = await storedTokens(w.store, 'keep');
    expect(after?.accessToken).toBe(token);
    expect(token).not.toBe(before?.accessToken);
    expect(after?.refreshToken).toBe(before?.refreshToken);
    session.close();
  });

  it('refreshes once reactively when the upstream rejects the token (401)', async () => {
    await login('reactive');
    const session = await OAuthSession.open({ name: 'reactive', store: w.store });
    const rejected = await session.getAccessToken();
    const count = refreshRequests();
    const next = await session.handleUnauthorized(rejected);
    expect(next).not.toBe(rejected);
    expect(refreshRequests()).toBe(count + 1);
    // A second 401 report for the already-replaced token does not refresh again.
    await expect(session.handleUnauthorized(rejected)).resolves.toBe(next);
    expect(refreshRequests()).toBe(count + 1);
    session.close();
  });

  it('turns invalid_grant into unauthenticated with a message that says how to log in again', async () => {
    await login('revoked', 'bob');
    await w.idp.revokeGrants({ sub: 'bob' });
    await expireStoredToken(w.store, 'revoked');
    const changes: OAuthStatusChange[] = [];
    const session = await OAuthSession.open({
      name: 'revoked',
      store: w.store,
      onStatusChange: (c) => changes.push(c),
    });
    const err = await session.getAccessToken().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReauthenticationRequiredError);
    expect(err).toMatchObject({
      code: OAuthClientErrorCode.InvalidGrant,
      oauthError: 'invalid_grant',
      workload: 'revoked',
    });
    expect((err as Error).message).toContain('run `bastion login revoked`');
    const stored = await storedTokens(w.store, 'revoked');
    expect(stored).toBeUndefined(); // dead tokens dropped for every instance
    expect((err as Error).message).not.toMatch(/eyJ/);
    expect(session.status).toBe('unauthenticated');
    expect(changes.map((c) => c.status)).toEqual(['unauthenticated']);
    expect(session.retryAfterSeconds()).toBeGreaterThan(0);
    // Another process logging in again makes the same session usable without a restart.
    await login('revoked', 'bob');
    await expect(session.getAccessToken()).resolves.toEqual(expect.any(String));
    expect(session.status).toBe('authenticated');
    session.close();
  });

  it('reports auth_retrying while the AS is down and recovers when it comes back', async () => {
    await login('outage');
    await expireStoredToken(w.store, 'outage');
    const session = await OAuthSession.open({
      name: 'outage',
      store: w.store,
      retry: { initialDelayMs: 100, maxDelayMs: 200 },
      requestTimeoutMs: 2_000,
    });
    const retrying = waitForStatus(session, 'auth_retrying');
    await w.idp.stop();
    let recovered: Promise<OAuthStatusChange> | undefined;
    try {
      const err = await session.getAccessToken().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: OAuthClientErrorCode.AsUnavailable, retryable: true });
      const change = await retrying;
      expect(change.error?.code).toBe(OAuthClientErrorCode.AsUnavailable);
      expect(session.status).toBe('auth_retrying');
      expect(session.retryAfterSeconds()).toBeGreaterThanOrEqual(1);
      // Between retries a request fails fast with the same error instead of hammering the AS.
      await expect(session.getAccessToken()).rejects.toMatchObject({
        code: OAuthClientErrorCode.AsUnavailable,
      });
      recovered = waitForStatus(session, 'authenticated');
    } finally {
      await w.idp.start();
    }
    await recovered;
    expect(session.status).toBe('authenticated');
    const token = await session.getAccessToken();
    expect(await listToolsWith(w.up.url, token)).toContain('echo');
    session.close();
  });

  it('treats 5xx from the token endpoint as transient', async () => {
    await login('fivexx');
    await expireStoredToken(w.store, 'fivexx');
    const session = await OAuthSession.open({
      name: 'fivexx',
      store: w.store,
      retry: { initialDelayMs: 100, maxDelayMs: 100 },
    });
    w.idp.setTokenEndpointFault('503');
    const recovered = waitForStatus(session, 'authenticated');
    try {
      await expect(session.getAccessToken()).rejects.toMatchObject({
        code: OAuthClientErrorCode.AsUnavailable,
        status: 503,
      });
      expect(session.status).toBe('auth_retrying');
    } finally {
      w.idp.setTokenEndpointFault(null);
    }
    await recovered;
    session.close();
  });

  it('lets two instances of one workload share a single refresh (cross-process lock)', async () => {
    await login('shared');
    await expireStoredToken(w.store, 'shared');
    // Two stores on the same directory, as two `bastion run` processes would have.
    const storeB = await createTokenStore({ dir: w.dir, useKeyring: false });
    const a = await OAuthSession.open({ name: 'shared', store: w.store });
    const b = await OAuthSession.open({ name: 'shared', store: storeB });
    const count = refreshRequests();
    const [ta, tb] = await Promise.all([a.getAccessToken(), b.getAccessToken()]);
    expect(refreshRequests()).toBe(count + 1);
    expect(ta).toBe(tb);
    a.close();
    b.close();
  });

  it('starts unauthenticated without a stored grant and forgets a workload on rm', async () => {
    const none = await OAuthSession.open({ name: 'never', store: w.store });
    expect(none.status).toBe('unauthenticated');
    await expect(none.getAccessToken()).rejects.toMatchObject({ code: OAuthClientErrorCode.Unauthenticated });
    none.close();
    await login('gone');
    expect(await forgetWorkload(w.store, 'gone')).toBe(true);
    expect(await getStoredGrantInfo(w.store, 'gone')).toBeUndefined();
  });

  it('validates its options', async () => {
    await expect(OAuthSession.open({ name: '../x', store: w.store })).rejects.toThrow(TypeError);
    await expect(OAuthSession.open({ name: 'x', store: w.store, refreshSkewMs: -1 })).rejects.toThrow(
      '"refreshSkewMs"',
    );
    await expect(
      OAuthSession.open({ name: 'x', store: w.store, retry: { initialDelayMs: 0 } }),
    ).rejects.toThrow('"retry.initialDelayMs"');
  });
});
