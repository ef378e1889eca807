import { createServer, type Server } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  CALLBACK_PORT_MAX,
  CALLBACK_PORT_MIN,
  callbackPortFor,
  createTokenStore,
  loginWithAuthorizationCode,
  OAuthClientErrorCode,
  type RemoteAuthRequirement,
  resolveRemoteAuth,
  type TokenStore,
} from '@bastion-mcp/auth/client';
import { asMetadata, type MetadataServer, startMetadataServer } from './helpers/metadata-server.js';

let as: MetadataServer;
let dir: string;
let store: TokenStore;

beforeAll(async () => {
  as = await startMetadataServer();
  dir = await mkdtemp(join(tmpdir(), 'bastion-callback-'));
  store = await createTokenStore({ dir, useKeyring: false });
});
afterAll(async () => {
  await as.close();
  await rm(dir, { recursive: true, force: true });
});

async function requirement(extra: Record<string, unknown> = {}): Promise<RemoteAuthRequirement> {
  as.clear();
  as.route('GET', '/.well-known/oauth-authorization-server', { body: (o: string) => asMetadata(o, extra) });
  as.route('GET', '/prm', { body: (o: string) => ({ resource: `${o}/mcp`, authorization_servers: [o] }) });
  return resolveRemoteAuth(`${as.origin}/mcp`, `Bearer resource_metadata="${as.origin}/prm"`);
}

/** Plays the browser: follows the authorization URL's redirect_uri with the given query. */
async function redirectBack(authorizationUrl: string, query: (state: string) => Record<string, string>) {
  const url = new URL(authorizationUrl);
  const callback = new URL(url.searchParams.get('redirect_uri')!);
  for (const [k, v] of Object.entries(query(url.searchParams.get('state')!))) callback.searchParams.set(k, v);
  const res = await fetch(callback);
  return { status: res.status, body: await res.text(), headers: res.headers };
}

describe('callbackPortFor', () => {
  it('derives a stable port in 33400–33999 from the canonical server URL', () => {
    const a = callbackPortFor('https://mcp.example.com/mcp');
    expect(a).toBeGreaterThanOrEqual(CALLBACK_PORT_MIN);
    expect(a).toBeLessThanOrEqual(CALLBACK_PORT_MAX);
    expect(callbackPortFor('https://MCP.example.com/mcp/')).toBe(a);
    const ports = new Set(
      ['a', 'b', 'c', 'd', 'e', 'f'].map((h) => callbackPortFor(`https://${h}.example.com/mcp`)),
    );
    expect(ports.size).toBeGreaterThan(1);
  });
});

describe('loginWithAuthorizationCode callback handling', () => {
  const client = { clientId: 'static-client' };

  it('fails with a clear typed error when the callback port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const err = await loginWithAuthorizationCode({
        name: 'porttaken',
        store,
        auth: await requirement(),
        client,
        callbackPort: port,
        onAuthorizationUrl: () => {},
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: OAuthClientErrorCode.CallbackPortInUse });
      expect((err as Error).message).toContain(String(port));
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('builds the authorization request with PKCE S256, state, resource and scopes on 127.0.0.1', async () => {
    let seen: URL | undefined;
    const done = loginWithAuthorizationCode({
      name: 'request',
      store,
      auth: await requirement(),
      client,
      scopes: ['files:read', 'offline_access'],
      callbackPort: 0,
      authorizeParams: { access_type: 'offline' },
      onAuthorizationUrl: async (u) => {
        seen = new URL(u);
        await redirectBack(u, (state) => ({ state, error: 'access_denied' }));
      },
    });
    await expect(done).rejects.toMatchObject({
      code: OAuthClientErrorCode.AuthorizationDenied,
      oauthError: 'access_denied',
    });
    const q = seen!.searchParams;
    expect(`${seen!.origin}${seen!.pathname}`).toBe(`${as.origin}/authorize`);
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe('static-client');
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    expect(q.get('resource')).toBe(`${as.origin}/mcp`);
    expect(q.get('scope')).toBe('files:read offline_access');
    expect(q.get('access_type')).toBe('offline');
    expect(q.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
  });

  it('sends scopes under scopeParamName and omits resource when resourceParam is false', async () => {
    let q: URLSearchParams | undefined;
    await loginWithAuthorizationCode({
      name: 'quirks',
      store,
      auth: await requirement(),
      client,
      scopes: ['chat:write'],
      scopeParamName: 'user_scope',
      resourceParam: false,
      callbackPort: 0,
      onAuthorizationUrl: async (u) => {
        q = new URL(u).searchParams;
        await redirectBack(u, (state) => ({ state, error: 'access_denied' }));
      },
    }).catch(() => {});
    expect(q?.get('user_scope')).toBe('chat:write');
    expect(q?.has('scope')).toBe(false);
    expect(q?.has('resource')).toBe(false);
  });

  it('refuses a callback whose state does not match, showing a failure page', async () => {
    let page: { status: number; body: string; headers: Headers } | undefined;
    const err = await loginWithAuthorizationCode({
      name: 'state',
      store,
      auth: await requirement(),
      client,
      callbackPort: 0,
      onAuthorizationUrl: async (u) => {
        page = await redirectBack(u, () => ({ state: 'forged-state', code: 'attacker-code' }));
      },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: OAuthClientErrorCode.StateMismatch });
    expect(page?.status).toBe(400);
    expect(page?.body).toContain('state mismatch');
    expect(page?.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(as.requests.some((r) => r === 'POST /token')).toBe(false);
  });

  it('checks the RFC 9207 iss parameter when the AS advertises it', async () => {
    const missing = await loginWithAuthorizationCode({
      name: 'iss',
      store,
      auth: await requirement({ authorization_response_iss_parameter_supported: true }),
      client,
      callbackPort: 0,
      onAuthorizationUrl: async (u) => void (await redirectBack(u, (state) => ({ state, code: 'c' }))),
    }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: OAuthClientErrorCode.IssMismatch });
    const wrong = await loginWithAuthorizationCode({
      name: 'iss',
      store,
      auth: await requirement(),
      client,
      callbackPort: 0,
      onAuthorizationUrl: async (u) =>
        void (await redirectBack(u, (state) => ({ state, code: 'c', iss: 'https://evil.example' }))),
    }).catch((e: unknown) => e);
    expect(wrong).toMatchObject({ code: OAuthClientErrorCode.IssMismatch });
  });

  it('retries the authorization once without resource when the AS answers invalid_target', async () => {
    const urls: URL[] = [];
    const err = await loginWithAuthorizationCode({
      name: 'target',
      store,
      auth: await requirement(),
      client,
      callbackPort: 0,
      onAuthorizationUrl: async (u) => {
        urls.push(new URL(u));
        await redirectBack(u, (state) => ({
          state,
          error: urls.length === 1 ? 'invalid_target' : 'access_denied',
        }));
      },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ oauthError: 'access_denied' });
    expect(urls).toHaveLength(2);
    expect(urls[0]?.searchParams.get('resource')).toBe(`${as.origin}/mcp`);
    expect(urls[1]?.searchParams.has('resource')).toBe(false);
  });

  it('gives up with a timeout error when the user never comes back', async () => {
    await expect(
      loginWithAuthorizationCode({
        name: 'timeout',
        store,
        auth: await requirement(),
        client,
        callbackPort: 0,
        loginTimeoutMs: 150,
        onAuthorizationUrl: () => {},
      }),
    ).rejects.toMatchObject({ code: OAuthClientErrorCode.Timeout });
  });

  it('rejects authorizeParams that would override protocol parameters', async () => {
    await expect(
      loginWithAuthorizationCode({
        name: 'bad',
        store,
        auth: await requirement(),
        client,
        authorizeParams: { state: 'x' },
        onAuthorizationUrl: () => {},
      }),
    ).rejects.toThrow('"authorizeParams" cannot set the protocol parameter "state"');
  });
});
