import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { oauthPost, startTestIdp, type TestIdp } from '../src/idp/index.js';

let idp: TestIdp;
let jwks: ReturnType<typeof createRemoteJWKSet>;

beforeAll(async () => {
  idp = await startTestIdp({
    accounts: {
      carol: {
        email: 'carol@example.test',
        name: 'Carol',
        groups: ['ops', 'eng'],
        realm_access: { roles: ['admin'] },
      },
    },
  });
  jwks = createRemoteJWKSet(new URL(idp.jwksUri));
});
afterAll(() => idp.close());

const introspect = (token: string) =>
  oauthPost(idp.introspectionEndpoint, { token }, idp.clients.introspector).then((r) => r.json ?? {});

describe('discovery', () => {
  it('advertises the endpoints and features Bastion relies on', async () => {
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      const res = await fetch(`${idp.issuer}${path}`);
      expect(res.status).toBe(200);
      const doc = (await res.json()) as Record<string, unknown>;
      expect(doc).toMatchObject({
        issuer: idp.issuer,
        jwks_uri: idp.jwksUri,
        authorization_endpoint: idp.authorizationEndpoint,
        token_endpoint: idp.tokenEndpoint,
        introspection_endpoint: idp.introspectionEndpoint,
        revocation_endpoint: idp.revocationEndpoint,
        registration_endpoint: idp.registrationEndpoint,
        device_authorization_endpoint: idp.deviceAuthorizationEndpoint,
        userinfo_endpoint: idp.userinfoEndpoint,
        code_challenge_methods_supported: ['S256'],
        authorization_response_iss_parameter_supported: true,
      });
      expect(doc.grant_types_supported).toEqual(
        expect.arrayContaining([
          'authorization_code',
          'refresh_token',
          'client_credentials',
          'urn:ietf:params:oauth:grant-type:device_code',
          'urn:ietf:params:oauth:grant-type:token-exchange',
        ]),
      );
      expect(doc.token_endpoint_auth_methods_supported).toEqual(
        expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none']),
      );
      expect(doc.scopes_supported).toEqual(expect.arrayContaining(['openid', 'offline_access', 'mcp:tools']));
    }
  });

  it('can hide the RFC 8414 document to exercise OIDC-only discovery', async () => {
    const oidcOnly = await startTestIdp({ oauthAuthorizationServerMetadata: false });
    try {
      expect((await fetch(`${oidcOnly.issuer}/.well-known/oauth-authorization-server`)).status).toBe(404);
      expect((await fetch(oidcOnly.discoveryUrl)).status).toBe(200);
    } finally {
      await oidcOnly.close();
    }
  });
});

describe('issueAccessToken', () => {
  it('issues a JWT for idp.resource that verifies against the JWKS with the right aud and account claims', async () => {
    const token = await idp.issueAccessToken({ sub: 'carol', scope: 'mcp:tools mcp:read not:known' });
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: idp.issuer,
      audience: idp.resource,
    });
    expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'at+jwt', kid: idp.currentKid });
    expect(payload).toMatchObject({
      sub: 'carol',
      scope: 'mcp:tools mcp:read',
      client_id: idp.clients.cli.clientId,
      email: 'carol@example.test',
      groups: ['ops', 'eng'],
      realm_access: { roles: ['admin'] },
    });
    expect((payload.exp as number) - (payload.iat as number)).toBe(3600);
  });

  it('merges per-token claims over the account and honours ttlSeconds', async () => {
    const token = await idp.issueAccessToken({
      sub: 'carol',
      claims: { groups: ['override'], tenant: { id: 't1' } },
      ttlSeconds: 5,
    });
    const { payload } = await jwtVerify(token, jwks, { audience: idp.resource });
    expect(payload.groups).toEqual(['override']);
    expect(payload.tenant).toEqual({ id: 't1' });
    expect(payload.email).toBe('carol@example.test');
    expect((payload.exp as number) - (payload.iat as number)).toBe(5);
  });

  it('cannot override registered claims through claims', async () => {
    const token = await idp.issueAccessToken({
      sub: 'carol',
      claims: { sub: 'mallory', aud: 'x', iss: 'y' },
    });
    const { payload } = await jwtVerify(token, jwks, { issuer: idp.issuer, audience: idp.resource });
    expect(payload.sub).toBe('carol');
  });

  it('issues opaque tokens for idp.opaqueResource that introspect active with their claims', async () => {
    const token = await idp.issueAccessToken({
      sub: 'carol',
      resource: idp.opaqueResource,
      scope: 'mcp:tools',
      claims: { tenant: 't2' },
    });
    expect(token.split('.')).toHaveLength(1);
    expect(() => decodeProtectedHeader(token)).toThrow();
    const info = await introspect(token);
    expect(info).toMatchObject({
      active: true,
      sub: 'carol',
      iss: idp.issuer,
      aud: idp.opaqueResource,
      scope: 'mcp:tools',
      client_id: idp.clients.cli.clientId,
      email: 'carol@example.test',
      groups: ['ops', 'eng'],
      realm_access: { roles: ['admin'] },
      tenant: 't2',
      token_type: 'Bearer',
    });
    expect(typeof info.exp).toBe('number');
  });

  it('introspection answers inactive for unknown, revoked and expired-by-grant tokens', async () => {
    expect(await introspect('not-a-token')).toEqual({ active: false });
    const token = await idp.issueAccessToken({ sub: 'dave', resource: idp.opaqueResource });
    expect((await introspect(token)).active).toBe(true);
    expect(await idp.revokeGrants({ sub: 'dave' })).toBe(1);
    expect(await introspect(token)).toEqual({ active: false });
  });

  it('introspection requires client authentication', async () => {
    const token = await idp.issueAccessToken({ sub: 'carol', resource: idp.opaqueResource });
    const anonymous = await oauthPost(idp.introspectionEndpoint, { token });
    expect(anonymous.status).toBe(400);
    const wrong = await oauthPost(
      idp.introspectionEndpoint,
      { token },
      { ...idp.clients.introspector, clientSecret: 'nope' },
    );
    expect(wrong.status).toBe(401);
    expect(wrong.json?.error).toBe('invalid_client');
  });

  it('rejects unknown resources and bad options', async () => {
    await expect(idp.issueAccessToken({ sub: 'carol', resource: 'https://unknown.test/' })).rejects.toThrow(
      TypeError,
    );
    await expect(idp.issueAccessToken({ sub: '' })).rejects.toThrow('options.sub');
    await expect(idp.issueAccessToken({ sub: 'a', ttlSeconds: 0 })).rejects.toThrow('options.ttlSeconds');
  });

  it('addResource makes a new audience usable', async () => {
    idp.addResource('https://added.test/mcp', { scopes: ['files:read'] });
    const token = await idp.issueAccessToken({
      sub: 'carol',
      resource: 'https://added.test/mcp',
      scope: 'files:read mcp:tools',
    });
    const { payload } = await jwtVerify(token, jwks, { audience: 'https://added.test/mcp' });
    expect(payload.scope).toBe('files:read');
  });
});

describe('client_credentials', () => {
  it('issues a JWT for a resource with sub = client_id', async () => {
    const res = await oauthPost(
      idp.tokenEndpoint,
      { grant_type: 'client_credentials', resource: idp.resource, scope: 'mcp:tools' },
      idp.clients.proxy,
    );
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'mcp:tools' });
    const { payload } = await jwtVerify(res.json?.access_token as string, jwks, {
      issuer: idp.issuer,
      audience: idp.resource,
    });
    expect(payload.sub).toBe(idp.clients.proxy.clientId);
    expect(payload.client_id).toBe(idp.clients.proxy.clientId);
  });

  it('issues opaque tokens for the opaque resource (introspectable) and refuses unknown resources', async () => {
    const res = await oauthPost(
      idp.tokenEndpoint,
      { grant_type: 'client_credentials', resource: idp.opaqueResource },
      idp.clients.exchangerPost,
    );
    expect(res.status).toBe(200);
    const info = await introspect(res.json?.access_token as string);
    expect(info).toMatchObject({ active: true, client_id: 'exchanger-post', aud: idp.opaqueResource });
    const bad = await oauthPost(
      idp.tokenEndpoint,
      { grant_type: 'client_credentials', resource: 'https://nope.test/' },
      idp.clients.proxy,
    );
    expect(bad.status).toBe(400);
    expect(bad.json?.error).toBe('invalid_target');
  });

  it('authenticates private_key_jwt clients', async () => {
    const res = await oauthPost(
      idp.tokenEndpoint,
      { grant_type: 'client_credentials', resource: idp.resource },
      idp.clients.exchangerJwt,
    );
    expect(res.status).toBe(200);
    const { payload } = await jwtVerify(res.json?.access_token as string, jwks, { audience: idp.resource });
    expect(payload.client_id).toBe('exchanger-jwt');
  });

  it('records the requests and counts the hits', async () => {
    const before = { token: idp.hits.token, requests: idp.requests.length };
    await oauthPost(
      idp.tokenEndpoint,
      { grant_type: 'client_credentials', resource: idp.resource },
      idp.clients.proxy,
    );
    expect(idp.hits.token).toBe(before.token + 1);
    expect(idp.requests.slice(before.requests)).toEqual([
      expect.objectContaining({
        endpoint: 'token',
        grantType: 'client_credentials',
        clientAuthMethod: 'client_secret_basic',
        clientId: idp.clients.proxy.clientId,
        params: { grant_type: 'client_credentials', resource: idp.resource },
      }),
    ]);
  });
});

describe('dynamic client registration (RFC 7591)', () => {
  it('registers a public PKCE client with loopback redirect URIs that can then log in', async () => {
    const before = idp.hits.registration;
    const res = await fetch(idp.registrationEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'dcr test',
        redirect_uris: ['http://127.0.0.1:45123/callback'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
        application_type: 'native',
      }),
    });
    expect(res.status).toBe(201);
    const registered = (await res.json()) as Record<string, unknown>;
    expect(registered).toMatchObject({
      token_endpoint_auth_method: 'none',
      redirect_uris: ['http://127.0.0.1:45123/callback'],
    });
    expect(typeof registered.client_id).toBe('string');
    expect(registered.client_secret).toBeUndefined();
    expect(idp.hits.registration).toBe(before + 1);
    const login = await idp.loginHeadless({
      clientId: registered.client_id as string,
      redirectUri: 'http://127.0.0.1:45123/callback',
    });
    expect(login.tokens.refresh_token).toEqual(expect.any(String));
  });

  it('rejects invalid metadata', async () => {
    const res = await fetch(idp.registrationEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['not a url'] }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_redirect_uri');
  });
});
