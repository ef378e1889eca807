/**
 * MCP 2025-03-26 discovery fallbacks: a remote without protected-resource metadata has its origin as
 * the authorization server (RFC 8414 metadata there, else the default /authorize, /token, /register).
 * The fallback applies only when PRM is plainly absent; an invalid PRM stays an error.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  checkAuthorizationServer,
  createTokenStore,
  detectRemoteAuth,
  getStoredGrantInfo,
  loginWithAuthorizationCode,
  OAuthClientErrorCode,
  OAuthSession,
  type RemoteAuthRequirement,
  resolveRemoteAuth,
  type TokenStore,
} from '@bastion-mcp/auth/client';
import { approve, type LegacyServer, startLegacyServer } from './helpers/legacy-server.js';
import { listToolsWith } from './helpers/world.js';

let dir: string;
let store: TokenStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bastion-legacy-'));
  store = await createTokenStore({ dir, useKeyring: false });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function required(url: string): Promise<RemoteAuthRequirement> {
  const detected = await detectRemoteAuth(url);
  if (!detected.required) throw new Error(`${url} should require OAuth`);
  return detected;
}

async function login(name: string, auth: RemoteAuthRequirement) {
  return loginWithAuthorizationCode({ name, store, auth, callbackPort: 0, onAuthorizationUrl: approve });
}

describe('2025-03-26 metadata at the origin (backcompat)', () => {
  let s: LegacyServer;
  beforeAll(async () => {
    // As in the conformance backcompat scenario: endpoints under /oauth, issuer = the origin.
    s = await startLegacyServer({ routePrefix: '/oauth' });
  });
  afterAll(() => s.close());
  afterEach(() => s.clear());

  it('takes the origin as the authorization server after both PRM URLs 404, and logs in there', async () => {
    const auth = await required(s.url);
    expect(auth).toMatchObject({
      discovery: 'legacy-metadata',
      serverUrl: s.url,
      resource: s.url,
      resourceMetadataUrl: undefined,
      resourceMetadata: { resource: s.url, authorization_servers: [s.origin] },
      authorizationServer: {
        issuer: s.origin,
        authorization_endpoint: `${s.origin}/oauth/authorize`,
        token_endpoint: `${s.origin}/oauth/token`,
      },
    });
    expect(s.requests).toEqual([
      'GET /.well-known/oauth-protected-resource/mcp',
      'GET /.well-known/oauth-protected-resource',
      'GET /.well-known/oauth-authorization-server',
    ]);

    const result = await login('backcompat', auth);
    expect(result).toMatchObject({ issuer: s.origin, clientSource: 'dcr', resource: s.url });
    expect(s.registrations).toHaveLength(1);
    expect(s.registrations[0]).toMatchObject({
      application_type: 'native',
      grant_types: ['authorization_code', 'refresh_token'],
    });
    // RFC 8707: the resource still goes out on both legs.
    expect(s.authorizations[0]).toMatchObject({ resource: s.url, code_challenge_method: 'S256' });
    expect(s.tokenRequests[0]).toMatchObject({ grant_type: 'authorization_code', resource: s.url });

    const session = await OAuthSession.open({ name: 'backcompat', store });
    try {
      expect(await listToolsWith(s.url, await session.getAccessToken())).toContain('echo');
    } finally {
      session.close();
    }
    expect(await getStoredGrantInfo(store, 'backcompat')).toMatchObject({
      discovery: 'legacy-metadata',
      issuer: s.origin,
    });
    // Re-discovery after a 401 finds the same (legacy) authorization server.
    expect(await checkAuthorizationServer(store, 'backcompat')).toEqual({ changed: false, issuer: s.origin });
  });

  it('does not fall back when the challenge names a resource_metadata URL that is missing', async () => {
    const err = await resolveRemoteAuth(
      s.url,
      `Bearer resource_metadata="${s.origin}/.well-known/oauth-protected-resource/mcp"`,
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: OAuthClientErrorCode.Discovery });
    expect(s.requests).not.toContain('GET /.well-known/oauth-authorization-server');
  });

  it('keeps an invalid PRM an error: no fallback to the origin', async () => {
    s.prm = { status: 200, body: { resource: 'not a prm' } }; // no authorization_servers
    const err = await detectRemoteAuth(s.url).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: OAuthClientErrorCode.Discovery });
    expect((err as Error).message).toContain('invalid-document');
    expect(s.requests).not.toContain('GET /.well-known/oauth-authorization-server');
  });

  it('keeps a failing PRM endpoint an error: 500 is not "absent"', async () => {
    s.prm = { status: 500, body: { error: 'server_error' } };
    const err = await detectRemoteAuth(s.url).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: OAuthClientErrorCode.Discovery });
    expect((err as Error).message).toContain('(500)');
    expect(s.requests).not.toContain('GET /.well-known/oauth-authorization-server');
  });

  it('refuses an authorizationServer option other than the origin', async () => {
    await expect(
      resolveRemoteAuth(s.url, 'Bearer', { authorizationServer: 'https://as.example.com' }),
    ).rejects.toMatchObject({ code: OAuthClientErrorCode.Discovery });
  });
});

describe('2025-03-26 metadata whose issuer is not the origin', () => {
  let s: LegacyServer;
  beforeAll(async () => {
    s = await startLegacyServer({ issuer: () => 'https://elsewhere.example.com' });
  });
  afterAll(() => s.close());

  it('applies the RFC 8414 issuer check to the fallback metadata (no default-endpoint guess)', async () => {
    await expect(detectRemoteAuth(s.url)).rejects.toMatchObject({
      code: OAuthClientErrorCode.IssuerMismatch,
    });
    expect(s.requests).not.toContain('POST /register');
  });
});

describe('2025-03-26 default endpoints (no metadata at all)', () => {
  let s: LegacyServer;
  beforeAll(async () => {
    s = await startLegacyServer({ metadata: false });
  });
  afterAll(() => s.close());
  afterEach(() => s.clear());

  it('uses /authorize, /token and /register at the origin, registering dynamically', async () => {
    const auth = await required(s.url);
    expect(auth.discovery).toBe('legacy-default-endpoints');
    expect(auth.authorizationServer).toMatchObject({
      issuer: s.origin,
      authorization_endpoint: `${s.origin}/authorize`,
      token_endpoint: `${s.origin}/token`,
      registration_endpoint: `${s.origin}/register`,
    });
    expect(s.requests).toEqual([
      'GET /.well-known/oauth-protected-resource/mcp',
      'GET /.well-known/oauth-protected-resource',
      'GET /.well-known/oauth-authorization-server',
      'GET /.well-known/openid-configuration',
    ]);
    s.requests.length = 0;

    const result = await login('fallback', auth);
    expect(result).toMatchObject({ clientSource: 'dcr', resource: s.url, issuer: s.origin });
    expect(s.requests).toEqual(['POST /register', 'GET /authorize', 'POST /token']);
    expect(s.tokenRequests[0]).toMatchObject({ resource: s.url });
    const session = await OAuthSession.open({ name: 'fallback', store });
    try {
      expect(await listToolsWith(s.url, await session.getAccessToken())).toContain('add');
    } finally {
      session.close();
    }
    expect((await getStoredGrantInfo(store, 'fallback'))?.discovery).toBe('legacy-default-endpoints');
  });

  it('does not guess endpoints when the metadata URL fails with something other than 404', async () => {
    s.metadataStatus = 503;
    const err = await detectRemoteAuth(s.url).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: OAuthClientErrorCode.Discovery });
    expect((err as Error).message).toContain(`${s.origin}/.well-known/oauth-authorization-server (503)`);
  });
});

describe('2025-03-26 remote with a path', () => {
  let s: LegacyServer;
  beforeAll(async () => {
    s = await startLegacyServer({ basePath: '/api/v1' });
  });
  afterAll(() => s.close());

  it('discards the path: metadata at the origin root, resource = the full server URL', async () => {
    expect(s.url).toBe(`${s.origin}/api/v1/mcp`);
    const auth = await required(s.url);
    expect(auth).toMatchObject({
      discovery: 'legacy-metadata',
      resource: s.url,
      authorizationServer: { issuer: s.origin },
    });
    expect(s.requests).toEqual([
      'GET /.well-known/oauth-protected-resource/api/v1/mcp',
      'GET /.well-known/oauth-protected-resource',
      'GET /.well-known/oauth-authorization-server',
    ]);
    await login('pathed', auth);
    expect(s.authorizations[0]?.['resource']).toBe(s.url);
  });
});
