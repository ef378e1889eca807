import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  detectRemoteAuth,
  type DeviceCodeInfo,
  loginWithClientCredentials,
  loginWithDeviceCode,
  OAuthClientErrorCode,
  OAuthSession,
  type RemoteAuthRequirement,
} from '@bastion-mcp/auth/client';
import { expireStoredToken, listToolsWith, startWorld, storedTokens, type World } from './helpers/world.js';

let w: World;
let auth: RemoteAuthRequirement;

beforeAll(async () => {
  w = await startWorld();
  const detected = await detectRemoteAuth(w.up.url);
  if (!detected.required) throw new Error('the upstream should require OAuth');
  auth = detected;
});
afterAll(() => w.close());

/**
 * The IdP asks clients to poll every 5 s (RFC 8628 default). To keep the test fast this fetch
 * wrapper lowers the advertised `interval` of the device authorization response to 1 s; the grant
 * is otherwise the IdP's own.
 */
const fastPolling: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  if (!String(input).startsWith(w.idp.deviceAuthorizationEndpoint) || res.status !== 200) return res;
  const body = (await res.json()) as Record<string, unknown>;
  return new Response(JSON.stringify({ ...body, interval: 1 }), {
    status: 200,
    headers: { 'content-type': 'application/json' },
  });
};

describe('device authorization grant', () => {
  it('logs in with a user code approved on another device and the token works upstream', async () => {
    const shown: DeviceCodeInfo[] = [];
    const result = await loginWithDeviceCode({
      name: 'device',
      store: w.store,
      auth,
      client: { clientId: w.idp.clients.cli.clientId },
      fetch: fastPolling,
      onDeviceCode: async (info) => {
        shown.push(info);
        await w.idp.approveDevice(info.userCode, { username: 'alice' });
      },
    });
    expect(shown[0]?.verificationUri).toContain(w.idp.issuer);
    expect(shown[0]?.expiresAt).toBeGreaterThan(Date.now());
    expect(result).toMatchObject({ grantType: 'device_code', resource: w.resource, hasRefreshToken: true });
    const tokens = await storedTokens(w.store, 'device');
    expect(await listToolsWith(w.up.url, tokens!.accessToken)).toContain('echo');
    const deviceRequest = w.idp.requests.find(
      (r) => r.grantType === 'urn:ietf:params:oauth:grant-type:device_code',
    );
    expect(deviceRequest?.params['resource']).toBe(w.resource);
  });

  it('reports a denied device login as authorization denied', async () => {
    await expect(
      loginWithDeviceCode({
        name: 'device-denied',
        store: w.store,
        auth,
        client: { clientId: w.idp.clients.cli.clientId },
        fetch: fastPolling,
        onDeviceCode: (info) => w.idp.approveDevice(info.userCode, { deny: true }),
      }),
    ).rejects.toMatchObject({ code: OAuthClientErrorCode.AuthorizationDenied });
  });

  it('refuses when the AS has no device authorization endpoint', async () => {
    const noDevice: RemoteAuthRequirement = {
      ...auth,
      authorizationServer: { ...auth.authorizationServer, device_authorization_endpoint: undefined },
    };
    await expect(
      loginWithDeviceCode({ name: 'nodevice', store: w.store, auth: noDevice, onDeviceCode: () => {} }),
    ).rejects.toMatchObject({ code: OAuthClientErrorCode.UnsupportedGrant });
  });
});

describe('client credentials grant', () => {
  it('obtains a token for a confidential client and re-runs the grant at expiry', async () => {
    const { clientId, clientSecret } = w.idp.clients.proxy;
    const result = await loginWithClientCredentials({
      name: 'machine',
      store: w.store,
      auth,
      client: { clientId, clientSecret },
    });
    expect(result).toMatchObject({
      grantType: 'client_credentials',
      clientSource: 'static',
      hasRefreshToken: false,
      resource: w.resource,
    });
    const first = w.idp.requests.filter((r) => r.grantType === 'client_credentials').at(-1);
    expect(first?.clientAuthMethod).toBe('client_secret_basic');
    expect(first?.params['resource']).toBe(w.resource);
    const firstToken = (await storedTokens(w.store, 'machine'))!.accessToken;
    expect(await listToolsWith(w.up.url, firstToken)).toContain('echo');

    await expireStoredToken(w.store, 'machine');
    const session = await OAuthSession.open({ name: 'machine', store: w.store });
    const count = w.idp.requests.filter((r) => r.grantType === 'client_credentials').length;
    const next = await session.getAccessToken();
    expect(next).not.toBe(firstToken);
    expect(w.idp.requests.filter((r) => r.grantType === 'client_credentials').length).toBe(count + 1);
    session.close();
  });

  it('rejects a wrong client secret as a token request error, not a transient one', async () => {
    await expect(
      loginWithClientCredentials({
        name: 'machine-bad',
        store: w.store,
        auth,
        client: { clientId: w.idp.clients.proxy.clientId, clientSecret: 'wrong-secret' },
      }),
    ).rejects.toMatchObject({
      code: OAuthClientErrorCode.TokenRequest,
      oauthError: 'invalid_client',
      retryable: false,
    });
  });
});
