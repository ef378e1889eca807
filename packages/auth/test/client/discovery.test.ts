import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  authorizationServerMetadataUrls,
  canonicalResourceUri,
  createTokenStore,
  detectRemoteAuth,
  loginWithAuthorizationCode,
  OAuthClientErrorCode,
  type OAuthWarning,
  protectedResourceMetadataUrls,
  resolveRemoteAuth,
} from '@bastion-mcp/auth/client';
import { freePort, type McpUpstream, startMcpUpstream } from '@bastion-mcp/testkit';
import { asMetadata, type MetadataServer, startMetadataServer } from './helpers/metadata-server.js';

let as: MetadataServer;
let remote: MetadataServer;
let up: McpUpstream;

beforeAll(async () => {
  as = await startMetadataServer();
  remote = await startMetadataServer();
  up = await startMcpUpstream({ requireAuth: () => false, authorizationServers: [as.origin] });
});
afterAll(async () => {
  await up.close();
  await as.close();
  await remote.close();
});
afterEach(() => {
  as.clear();
  remote.clear();
  up.clearRequests();
});

const prmPath = '/.well-known/oauth-protected-resource';

function serveAs(extra: Record<string, unknown> = {}) {
  as.route('GET', '/.well-known/oauth-authorization-server', { body: (o: string) => asMetadata(o, extra) });
}

describe('URL helpers', () => {
  it('builds the canonical resource URI and the well-known URLs in spec order', () => {
    expect(canonicalResourceUri('HTTPS://MCP.Example.com/mcp/#frag')).toBe('https://mcp.example.com/mcp');
    expect(canonicalResourceUri('https://mcp.example.com/')).toBe('https://mcp.example.com');
    expect(protectedResourceMetadataUrls('https://h/api/mcp')).toEqual([
      'https://h/.well-known/oauth-protected-resource/api/mcp',
      'https://h/.well-known/oauth-protected-resource',
    ]);
    expect(protectedResourceMetadataUrls('https://h/')).toEqual([
      'https://h/.well-known/oauth-protected-resource',
    ]);
    expect(authorizationServerMetadataUrls('https://as/t1')).toEqual([
      'https://as/.well-known/oauth-authorization-server/t1',
      'https://as/.well-known/openid-configuration/t1',
      'https://as/t1/.well-known/openid-configuration',
    ]);
    expect(authorizationServerMetadataUrls('https://as')).toEqual([
      'https://as/.well-known/oauth-authorization-server',
      'https://as/.well-known/openid-configuration',
    ]);
  });
});

describe('detectRemoteAuth', () => {
  it('follows the resource_metadata of a real 401 challenge to the authorization server', async () => {
    serveAs();
    const result = await detectRemoteAuth(up.url);
    if (!result.required) throw new Error('expected OAuth to be required');
    expect(result.resourceMetadataUrl).toBe(`${up.origin}${prmPath}/mcp`);
    expect(result.resource).toBe(`${up.origin}/mcp`);
    expect(result.serverUrl).toBe(up.url);
    expect(result.authorizationServer.issuer).toBe(as.origin);
    expect(result.challenge?.resourceMetadata).toBe(result.resourceMetadataUrl);
    expect(up.requests[0]?.method).toBe('POST');
    expect(up.requests[0]?.rpcMethod).toBe('initialize');
    expect(up.requests[0]?.headers.authorization).toBeUndefined();
  });

  it('answers required:false when the remote does not challenge', async () => {
    const open = await startMcpUpstream();
    try {
      await expect(detectRemoteAuth(open.url)).resolves.toEqual({ required: false, status: 200 });
    } finally {
      await open.close();
    }
  });

  it('treats an unreachable remote as a network error, never as "no auth"', async () => {
    const port = await freePort();
    await expect(detectRemoteAuth(`http://127.0.0.1:${port}/mcp`)).rejects.toMatchObject({
      code: OAuthClientErrorCode.Network,
      retryable: true,
    });
  });

  it('probes the path-specific PRM first when a bare Bearer challenge has no resource_metadata', async () => {
    serveAs();
    const bare = await startMcpUpstream({
      requireAuth: () => false,
      wwwAuthenticate: 'Bearer',
      authorizationServers: [as.origin],
    });
    try {
      const result = await detectRemoteAuth(bare.url);
      if (!result.required) throw new Error('expected OAuth');
      expect(result.resourceMetadataUrl).toBe(`${bare.origin}${prmPath}/mcp`);
      const prmRequests = bare.requests.filter((r) => r.path.startsWith('/.well-known/')).map((r) => r.path);
      expect(prmRequests).toEqual([`${prmPath}/mcp`]);
    } finally {
      await bare.close();
    }
  });

  it('falls back to the root PRM when the path-specific URL is missing', async () => {
    serveAs();
    remote.route('POST', '/mcp', {
      status: 401,
      headers: { 'www-authenticate': 'Bearer realm="mcp"' },
      body: { error: 'invalid_token' },
    });
    remote.route('GET', prmPath, {
      body: (o: string) => ({ resource: o, authorization_servers: [as.origin] }),
    });
    const result = await detectRemoteAuth(`${remote.origin}/mcp`);
    if (!result.required) throw new Error('expected OAuth');
    expect(result.resourceMetadataUrl).toBe(`${remote.origin}${prmPath}`);
    expect(result.resource).toBe(remote.origin);
    expect(remote.requests).toEqual(['POST /mcp', `GET ${prmPath}/mcp`, `GET ${prmPath}`]);
  });

  it('discovers through the PRM when the 401 carries no WWW-Authenticate at all', async () => {
    serveAs();
    remote.route('POST', '/mcp', { status: 401 });
    remote.route('GET', `${prmPath}/mcp`, {
      body: (o: string) => ({ resource: `${o}/mcp`, authorization_servers: [as.origin] }),
    });
    const result = await detectRemoteAuth(`${remote.origin}/mcp`);
    expect(result.required).toBe(true);
  });

  it('refuses a PRM whose resource names another server (RFC 9728 §3.3)', async () => {
    serveAs();
    remote.route('POST', '/mcp', {
      status: 401,
      headers: { 'www-authenticate': `Bearer resource_metadata="${remote.origin}/prm"` },
    });
    remote.route('GET', '/prm', {
      body: { resource: 'https://evil.example/mcp', authorization_servers: [as.origin] },
    });
    await expect(detectRemoteAuth(`${remote.origin}/mcp`)).rejects.toMatchObject({
      code: OAuthClientErrorCode.ResourceMismatch,
    });
  });

  it('selects scopes: challenge scope, else PRM scopes_supported, else none', async () => {
    serveAs();
    remote.route('GET', '/prm', {
      body: (o: string) => ({
        resource: `${o}/mcp`,
        authorization_servers: [as.origin],
        scopes_supported: ['x', 'y'],
      }),
    });
    const withScope = await resolveRemoteAuth(
      `${remote.origin}/mcp`,
      `Bearer resource_metadata="${remote.origin}/prm", scope="a b"`,
    );
    expect(withScope.scopes).toEqual(['a', 'b']);
    const withoutScope = await resolveRemoteAuth(
      `${remote.origin}/mcp`,
      `Bearer resource_metadata="${remote.origin}/prm"`,
    );
    expect(withoutScope.scopes).toEqual(['x', 'y']);
    remote.route('GET', '/prm', {
      body: (o: string) => ({
        resource: `${o}/mcp`,
        authorization_servers: [as.origin],
        scopes_supported: [],
      }),
    });
    const empty = await resolveRemoteAuth(
      `${remote.origin}/mcp`,
      `Bearer resource_metadata="${remote.origin}/prm"`,
    );
    expect(empty.scopes).toBeUndefined();
  });

  it('reports a Basic-only challenge without PRM as an unsupported challenge', async () => {
    remote.route('POST', '/mcp', { status: 401, headers: { 'www-authenticate': 'Basic realm="x"' } });
    await expect(detectRemoteAuth(`${remote.origin}/mcp`)).rejects.toMatchObject({
      code: OAuthClientErrorCode.UnsupportedChallenge,
    });
  });
});

describe('authorization server discovery', () => {
  function servePrm(issuer: string) {
    remote.route('GET', '/prm', {
      body: (o: string) => ({ resource: `${o}/mcp`, authorization_servers: [issuer] }),
    });
    return `Bearer resource_metadata="${remote.origin}/prm"`;
  }

  it('tries RFC 8414 insertion, OIDC insertion, then OIDC appending for an issuer with a path', async () => {
    const issuer = `${as.origin}/tenant1`;
    as.route('GET', '/tenant1/.well-known/openid-configuration', { body: asMetadata(issuer) });
    const result = await resolveRemoteAuth(`${remote.origin}/mcp`, servePrm(issuer));
    expect(result.authorizationServer.issuer).toBe(issuer);
    expect(as.requests).toEqual([
      'GET /.well-known/oauth-authorization-server/tenant1',
      'GET /.well-known/openid-configuration/tenant1',
      'GET /tenant1/.well-known/openid-configuration',
    ]);
  });

  it('falls back to OIDC discovery for an issuer without a path', async () => {
    as.route('GET', '/.well-known/openid-configuration', { body: (o: string) => asMetadata(o) });
    const result = await resolveRemoteAuth(`${remote.origin}/mcp`, servePrm(as.origin));
    expect(result.authorizationServer.issuer).toBe(as.origin);
    expect(as.requests).toEqual([
      'GET /.well-known/oauth-authorization-server',
      'GET /.well-known/openid-configuration',
    ]);
  });

  it('refuses metadata whose issuer differs from the discovered issuer', async () => {
    as.route('GET', '/.well-known/oauth-authorization-server', { body: asMetadata('https://other.example') });
    await expect(resolveRemoteAuth(`${remote.origin}/mcp`, servePrm(as.origin))).rejects.toMatchObject({
      code: OAuthClientErrorCode.IssuerMismatch,
    });
  });

  it('accepts a mismatching issuer only with the compatibility switch, and reports it', async () => {
    as.route('GET', '/.well-known/oauth-authorization-server', {
      body: { ...asMetadata(as.origin), issuer: 'https://other.example' },
    });
    const warnings: OAuthWarning[] = [];
    const result = await resolveRemoteAuth(`${remote.origin}/mcp`, servePrm(as.origin), {
      allowIssuerMismatch: true,
      onWarning: (w) => warnings.push(w),
    });
    expect(result.authorizationServer.issuer).toBe('https://other.example');
    expect(warnings).toEqual([
      {
        code: OAuthClientErrorCode.IssuerMismatch,
        message: expect.stringContaining('https://other.example'),
      },
    ]);
  });

  it('refuses plain-HTTP endpoints on non-loopback hosts', async () => {
    as.route('GET', '/.well-known/oauth-authorization-server', {
      body: (o: string) => asMetadata(o, { token_endpoint: 'http://as.example.com/token' }),
    });
    await expect(resolveRemoteAuth(`${remote.origin}/mcp`, servePrm(as.origin))).rejects.toMatchObject({
      code: OAuthClientErrorCode.InsecureUrl,
    });
  });

  it('reports a discovery error naming every URL tried when no metadata exists', async () => {
    const err = await resolveRemoteAuth(`${remote.origin}/mcp`, servePrm(as.origin)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: OAuthClientErrorCode.Discovery });
    expect((err as Error).message).toContain(`${as.origin}/.well-known/openid-configuration (404)`);
  });
});

describe('PKCE S256 requirement', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bastion-s256-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('refuses to log in when the AS does not advertise S256, before any URL is produced', async () => {
    as.route('GET', '/.well-known/oauth-authorization-server', {
      body: (o: string) => asMetadata(o, { code_challenge_methods_supported: ['plain'] }),
    });
    remote.route('GET', '/prm', {
      body: (o: string) => ({ resource: `${o}/mcp`, authorization_servers: [as.origin] }),
    });
    const auth = await resolveRemoteAuth(
      `${remote.origin}/mcp`,
      `Bearer resource_metadata="${remote.origin}/prm"`,
    );
    const store = await createTokenStore({ dir, useKeyring: false });
    const urls: string[] = [];
    await expect(
      loginWithAuthorizationCode({
        name: 'nos256',
        store,
        auth,
        callbackPort: 0,
        onAuthorizationUrl: (u) => void urls.push(u),
      }),
    ).rejects.toMatchObject({ code: OAuthClientErrorCode.NoS256 });
    expect(urls).toEqual([]);
    expect(as.requests.filter((r) => r.startsWith('POST'))).toEqual([]);
  });
});
