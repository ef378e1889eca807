import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createStaticTokenProvider,
  createTokenStore,
  loginWithAuthorizationCode,
  OAuthClientErrorCode,
  type OAuthStatusChange,
  readBearerTokenFile,
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
  dir = await mkdtemp(join(tmpdir(), 'bastion-identity-'));
  store = await createTokenStore({ dir, useKeyring: false });
});
afterAll(async () => {
  await as.close();
  await rm(dir, { recursive: true, force: true });
});

async function requirement(extra: Record<string, unknown>): Promise<RemoteAuthRequirement> {
  as.clear();
  as.route('GET', '/.well-known/oauth-authorization-server', { body: (o: string) => asMetadata(o, extra) });
  as.route('GET', '/prm', { body: (o: string) => ({ resource: `${o}/mcp`, authorization_servers: [o] }) });
  return resolveRemoteAuth(`${as.origin}/mcp`, `Bearer resource_metadata="${as.origin}/prm"`);
}

/** Starts a login and returns the client_id of its authorization URL, then abandons it. */
async function clientIdUsed(
  auth: RemoteAuthRequirement,
  client?: { clientMetadataUrl?: string },
): Promise<string | null> {
  let clientId: string | null = null;
  await loginWithAuthorizationCode({
    name: 'identity',
    store,
    auth,
    client,
    callbackPort: 0,
    onAuthorizationUrl: async (u) => {
      clientId = new URL(u).searchParams.get('client_id');
      const cb = new URL(new URL(u).searchParams.get('redirect_uri')!);
      cb.searchParams.set('state', new URL(u).searchParams.get('state')!);
      cb.searchParams.set('error', 'access_denied');
      await fetch(cb);
    },
  }).catch(() => {});
  return clientId;
}

describe('client identity', () => {
  const cimd = 'https://bastion.example/oauth/client-metadata.json';

  it('uses the Client ID Metadata Document URL when the AS advertises support', async () => {
    const auth = await requirement({ client_id_metadata_document_supported: true });
    expect(await clientIdUsed(auth, { clientMetadataUrl: cimd })).toBe(cimd);
    expect(as.requests).not.toContain('POST /register');
  });

  it('registers dynamically (RFC 7591) when the AS does not support CIMD', async () => {
    const auth = await requirement({});
    as.route('POST', '/register', { status: 201, body: { client_id: 'dcr-client-1' } });
    expect(await clientIdUsed(auth, { clientMetadataUrl: cimd })).toBe('dcr-client-1');
    expect(as.requests).toContain('POST /register');
  });

  it('explains a registration endpoint that does not exist', async () => {
    const auth = await requirement({ registration_endpoint: undefined });
    as.route('GET', '/.well-known/oauth-authorization-server', {
      body: (o: string) => asMetadata(o, { registration_endpoint: `${o}/missing-register` }),
    });
    const err = await loginWithAuthorizationCode({
      name: 'noreg',
      store,
      auth: await resolveRemoteAuth(`${as.origin}/mcp`, `Bearer resource_metadata="${as.origin}/prm"`),
      callbackPort: 0,
      onAuthorizationUrl: () => {},
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: OAuthClientErrorCode.Registration, status: 404 });
    expect((err as Error).message).toContain('register a client out of band');
    expect(auth.authorizationServer.registration_endpoint).toBeUndefined();
    await expect(
      loginWithAuthorizationCode({
        name: 'noreg',
        store,
        auth,
        callbackPort: 0,
        onAuthorizationUrl: () => {},
      }),
    ).rejects.toMatchObject({ code: OAuthClientErrorCode.NoClient });
  });

  it('validates client options', async () => {
    const auth = await requirement({});
    const base = { name: 'x', store, auth, onAuthorizationUrl: () => {} };
    await expect(loginWithAuthorizationCode({ ...base, client: { clientSecret: 's' } })).rejects.toThrow(
      '"client.clientSecret" needs "client.clientId"',
    );
    await expect(
      loginWithAuthorizationCode({ ...base, client: { clientMetadataUrl: 'http://x.example/m' } }),
    ).rejects.toThrow('"client.clientMetadataUrl"');
  });
});

describe('static bearer tokens', () => {
  it('reads a token file (first line, trimmed) and flags loose file permissions', async () => {
    const file = join(dir, 'token.txt');
    await writeFile(file, 'static-token-value\n# comment\n', { mode: 0o644 });
    await chmod(file, 0o644);
    expect(await readBearerTokenFile(file)).toEqual({ token: 'static-token-value', looseFileMode: true });
    await chmod(file, 0o600);
    expect((await readBearerTokenFile(file)).looseFileMode).toBe(false);
    await writeFile(file, '  \n');
    await expect(readBearerTokenFile(file)).rejects.toMatchObject({ code: OAuthClientErrorCode.StaticToken });
    await expect(readBearerTokenFile(join(dir, 'missing'))).rejects.toMatchObject({
      code: OAuthClientErrorCode.StaticToken,
    });
  });

  it('serves the token until the upstream rejects it, then reports unauthenticated', async () => {
    const changes: OAuthStatusChange[] = [];
    const provider = createStaticTokenProvider('abc.def', { name: 'static' });
    provider.onStatusChange((c) => changes.push(c));
    await expect(provider.getAccessToken()).resolves.toBe('abc.def');
    const err = await provider.handleUnauthorized('abc.def').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: OAuthClientErrorCode.Unauthenticated });
    expect((err as Error).message).not.toContain('abc.def');
    expect(provider.status).toBe('unauthenticated');
    expect(changes.map((c) => c.status)).toEqual(['unauthenticated']);
    await expect(provider.getAccessToken()).rejects.toMatchObject({
      code: OAuthClientErrorCode.Unauthenticated,
    });
    expect(() => createStaticTokenProvider(' ', { name: 'x' })).toThrow(TypeError);
  });
});
