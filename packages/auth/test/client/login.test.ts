import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  detectRemoteAuth,
  getStoredGrantInfo,
  loginWithAuthorizationCode,
  OAuthSession,
  type RemoteAuthRequirement,
} from '@bastion-mcp/auth/client';
import { freePort } from '@bastion-mcp/testkit';
import { listToolsWith, startWorld, storedTokens, type World } from './helpers/world.js';

let w: World;
let auth: RemoteAuthRequirement;
let callbackPort: number;

beforeAll(async () => {
  w = await startWorld();
  const detected = await detectRemoteAuth(w.up.url);
  if (!detected.required) throw new Error('the upstream should require OAuth');
  auth = detected;
  callbackPort = await freePort();
});
afterAll(() => w.close());

describe('authorization code + PKCE against the testkit IdP', () => {
  it('registers a client (DCR), logs in headlessly and the token is accepted upstream', async () => {
    const urls: string[] = [];
    const result = await loginWithAuthorizationCode({
      name: 'demo',
      store: w.store,
      auth,
      callbackPort,
      onAuthorizationUrl: async (url) => {
        urls.push(url);
        const answer = await w.idp.authorize(url, { username: 'alice', deliver: true });
        expect(answer.callback?.status).toBe(200);
        expect(answer.callback?.body).toContain('Signed in');
      },
    });
    expect(result).toMatchObject({
      name: 'demo',
      grantType: 'authorization_code',
      issuer: w.idp.issuer,
      clientSource: 'dcr',
      resource: w.resource,
      hasRefreshToken: true,
    });
    expect(w.idp.hits.registration).toBe(1);
    expect(new URL(urls[0]!).searchParams.get('resource')).toBe(w.resource);
    expect(new URL(urls[0]!).searchParams.get('scope')).toBe('mcp:tools offline_access'); // from the challenge, + offline_access (listed by the IdP)
    const codeRequest = w.idp.requests.find((r) => r.grantType === 'authorization_code');
    expect(codeRequest?.params['resource']).toBe(w.resource);
    expect(codeRequest?.params['code_verifier']).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(codeRequest?.clientAuthMethod).toBe('none');

    const session = await OAuthSession.open({ name: 'demo', store: w.store });
    expect(session.status).toBe('authenticated');
    const token = await session.getAccessToken();
    expect(await listToolsWith(w.up.url, token)).toContain('echo');
    session.close();

    // On disk: 0600 files, and neither token appears in any of them.
    const stored = await storedTokens(w.store, 'demo');
    for (const file of await readdir(w.dir)) {
      const bytes = await readFile(join(w.dir, file));
      expect(bytes.includes(Buffer.from(stored!.accessToken))).toBe(false);
      expect(bytes.includes(Buffer.from(stored!.refreshToken!))).toBe(false);
      expect((await stat(join(w.dir, file))).mode & 0o777).toBe(0o600);
    }

    const info = await getStoredGrantInfo(w.store, 'demo');
    expect(info).toMatchObject({
      clientSource: 'dcr',
      hasTokens: true,
      hasRefreshToken: true,
      issuer: w.idp.issuer,
    });
  });

  it('reuses the cached registration for a later login with the same redirect URI', async () => {
    const before = w.idp.hits.registration;
    const result = await loginWithAuthorizationCode({
      name: 'demo2',
      store: w.store,
      auth,
      callbackPort,
      onAuthorizationUrl: async (url) => void (await w.idp.authorize(url, { deliver: true })),
    });
    expect(result.clientSource).toBe('dcr');
    expect(w.idp.hits.registration).toBe(before);
  });

  it('uses a pre-registered public client without registering', async () => {
    const before = w.idp.hits.registration;
    const result = await loginWithAuthorizationCode({
      name: 'static',
      store: w.store,
      auth,
      client: { clientId: w.idp.clients.cli.clientId },
      redirectHost: 'localhost',
      callbackPort: 0,
      onAuthorizationUrl: async (url) => {
        expect(new URL(url).searchParams.get('redirect_uri')).toMatch(/^http:\/\/localhost:\d+\/callback$/);
        await w.idp.authorize(url, { deliver: true });
      },
    });
    expect(result).toMatchObject({ clientSource: 'static', clientId: w.idp.clients.cli.clientId });
    expect(w.idp.hits.registration).toBe(before);
    const tokens = await storedTokens(w.store, 'static');
    expect(await listToolsWith(w.up.url, tokens!.accessToken)).toContain('add');
  });

  it('retries without the resource parameter when the AS answers invalid_target, and stores that choice', async () => {
    const unknownResource = `${w.up.origin}/not-registered`;
    const urls: URL[] = [];
    const result = await loginWithAuthorizationCode({
      name: 'target',
      store: w.store,
      auth,
      resource: unknownResource,
      callbackPort: 0,
      onAuthorizationUrl: async (url) => {
        urls.push(new URL(url));
        await w.idp.authorize(url, { deliver: true });
      },
    });
    expect(urls).toHaveLength(2);
    expect(urls[0]?.searchParams.get('resource')).toBe(unknownResource);
    expect(urls[1]?.searchParams.has('resource')).toBe(false);
    expect(result.resource).toBeUndefined();
    expect((await getStoredGrantInfo(w.store, 'target'))?.resource).toBeUndefined();
  });
});
