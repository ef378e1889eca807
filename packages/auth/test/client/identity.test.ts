import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
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

  describe('falls back once to dynamic registration when the AS rejects the CIMD client id', () => {
    /** Drives a login: `answer(clientId)` decides the callback (an error, or a code). */
    async function login(
      auth: RemoteAuthRequirement,
      answer: (clientId: string) => { error: string } | { code: string },
    ) {
      const clientIds: string[] = [];
      const warnings: string[] = [];
      const err = await loginWithAuthorizationCode({
        name: 'cimd-fallback',
        store,
        auth,
        client: { clientMetadataUrl: cimd },
        callbackPort: 0,
        onWarning: (w) => warnings.push(`${w.code}: ${w.message}`),
        onAuthorizationUrl: async (u) => {
          const q = new URL(u).searchParams;
          const clientId = q.get('client_id') ?? '';
          clientIds.push(clientId);
          const cb = new URL(q.get('redirect_uri')!);
          cb.searchParams.set('state', q.get('state')!);
          for (const [k, v] of Object.entries(answer(clientId))) cb.searchParams.set(k, v);
          await fetch(cb);
        },
      }).catch((e: unknown) => e);
      return { err, clientIds, warnings };
    }

    it('at the authorization endpoint (unauthorized_client), with a warning', async () => {
      const auth = await requirement({ client_id_metadata_document_supported: true });
      as.route('POST', '/register', { status: 201, body: { client_id: 'dcr-after-cimd' } });
      const { err, clientIds, warnings } = await login(auth, (id) =>
        id === cimd ? { error: 'unauthorized_client' } : { error: 'access_denied' },
      );
      // the DCR client got to the consent step: the fallback happened, and only once
      expect(clientIds).toEqual([cimd, 'dcr-after-cimd']);
      expect(err).toMatchObject({
        code: OAuthClientErrorCode.AuthorizationDenied,
        oauthError: 'access_denied',
      });
      expect(as.requests.filter((r) => r === 'POST /register')).toHaveLength(1);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        /^CIMD_REJECTED: .*rejected the client metadata document .*unauthorized_client/,
      );
    });

    it('at the token endpoint (invalid_client)', async () => {
      const auth = await requirement({ client_id_metadata_document_supported: true });
      as.route('POST', '/register', { status: 201, body: { client_id: 'dcr-after-token' } });
      as.route('POST', '/token', { status: 401, body: { error: 'invalid_client' } });
      const { err, clientIds, warnings } = await login(auth, (id) =>
        id === cimd ? { code: 'code-for-cimd' } : { error: 'access_denied' },
      );
      expect(clientIds).toEqual([cimd, 'dcr-after-token']);
      expect(as.requests.filter((r) => r === 'POST /token')).toHaveLength(1);
      expect(err).toMatchObject({ oauthError: 'access_denied' });
      expect(warnings).toHaveLength(1);
    });

    it('does not loop when the registered client is rejected too', async () => {
      const auth = await requirement({ client_id_metadata_document_supported: true });
      as.route('POST', '/register', { status: 201, body: { client_id: 'dcr-rejected' } });
      const { err, clientIds } = await login(auth, () => ({ error: 'unauthorized_client' }));
      expect(clientIds).toEqual([cimd, 'dcr-rejected']);
      expect(err).toMatchObject({ oauthError: 'unauthorized_client' });
    });

    it('gives up when the AS has no registration endpoint', async () => {
      const auth = await requirement({
        client_id_metadata_document_supported: true,
        registration_endpoint: undefined,
      });
      const { err, clientIds, warnings } = await login(auth, () => ({ error: 'invalid_client' }));
      expect(clientIds).toEqual([cimd]);
      expect(err).toMatchObject({
        code: OAuthClientErrorCode.AuthorizationDenied,
        oauthError: 'invalid_client',
      });
      expect(warnings).toEqual([]);
      expect(as.requests).not.toContain('POST /register');
    });
  });

  it('reuses a cached registration for its scopes, and registers again for a wider scope (step-up)', async () => {
    const auth = await requirement({});
    let n = 0;
    as.route('POST', '/register', {
      status: 201,
      body: () => ({ client_id: `scoped-${++n}`, scope: 'mcp:tools' }),
    });
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(p));
      });
    });
    const used = async (scopes: string[]) => {
      let clientId: string | null = null;
      await loginWithAuthorizationCode({
        name: 'scoped',
        store,
        auth,
        scopes,
        callbackPort: port,
        onAuthorizationUrl: async (u) => {
          const q = new URL(u).searchParams;
          clientId = q.get('client_id');
          const cb = new URL(q.get('redirect_uri')!);
          cb.searchParams.set('state', q.get('state')!);
          cb.searchParams.set('error', 'access_denied');
          await fetch(cb);
        },
      }).catch(() => {});
      return clientId;
    };
    expect(await used(['mcp:tools'])).toBe('scoped-1');
    expect(await used(['mcp:tools'])).toBe('scoped-1');
    expect(await used(['mcp:tools', 'mcp:admin'])).toBe('scoped-2');
    expect(as.requests.filter((r) => r === 'POST /register')).toHaveLength(2);
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
