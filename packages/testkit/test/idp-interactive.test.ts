import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { DEVICE_CODE_GRANT, oauthPost, startTestIdp, type TestIdp } from '../src/idp/index.js';

let idp: TestIdp;
let jwks: ReturnType<typeof createRemoteJWKSet>;

beforeAll(async () => {
  idp = await startTestIdp();
  jwks = createRemoteJWKSet(new URL(idp.jwksUri));
});
afterAll(() => idp.close());

const refresh = (refreshToken: string) =>
  oauthPost(idp.tokenEndpoint, { grant_type: 'refresh_token', refresh_token: refreshToken }, idp.clients.cli);

const authUrl = (params: Record<string, string>) => {
  const url = new URL(idp.authorizationEndpoint);
  for (const [k, v] of Object.entries({
    client_id: idp.clients.cli.clientId,
    response_type: 'code',
    redirect_uri: 'http://127.0.0.1:40000/callback',
    scope: 'openid mcp:tools',
    state: 's1',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    resource: idp.resource,
    ...params,
  })) {
    url.searchParams.set(k, v);
  }
  return url;
};

describe('authorization code + PKCE (headless)', () => {
  it('logs in, returns iss (RFC 9207), and issues a JWT for the resource plus an ID token', async () => {
    const before = idp.hits.authorization;
    const login = await idp.loginHeadless({
      username: 'bob',
      scope: 'openid email offline_access mcp:tools',
    });
    expect(login.iss).toBe(idp.issuer);
    expect(idp.hits.authorization).toBe(before + 1);
    const { payload } = await jwtVerify(login.tokens.access_token, jwks, {
      issuer: idp.issuer,
      audience: idp.resource,
    });
    expect(payload).toMatchObject({
      sub: 'bob',
      scope: 'mcp:tools',
      client_id: idp.clients.cli.clientId,
      groups: ['sales'],
    });
    const id = await jwtVerify(login.tokens.id_token as string, jwks, {
      issuer: idp.issuer,
      audience: idp.clients.cli.clientId,
    });
    expect(id.payload).toMatchObject({ sub: 'bob', email: 'bob@example.test' });
    expect(login.tokens.refresh_token).toEqual(expect.any(String));
  });

  it('rotates refresh tokens and rejects a used one with invalid_grant', async () => {
    const login = await idp.loginHeadless({});
    const first = login.tokens.refresh_token as string;
    const r1 = await refresh(first);
    expect(r1.status).toBe(200);
    const second = r1.json?.refresh_token as string;
    expect(second).toEqual(expect.any(String));
    expect(second).not.toBe(first);
    const { payload } = await jwtVerify(r1.json?.access_token as string, jwks, { audience: idp.resource });
    expect(payload.sub).toBe('alice');
    const reuse = await refresh(first);
    expect(reuse.status).toBe(400);
    expect(reuse.json?.error).toBe('invalid_grant');
  });

  it('makes refresh fail with invalid_grant after revokeGrants', async () => {
    const login = await idp.loginHeadless({ username: 'frank' });
    expect(await idp.revokeGrants({ sub: 'frank', clientId: idp.clients.cli.clientId })).toBeGreaterThan(0);
    const res = await refresh(login.tokens.refresh_token as string);
    expect(res.status).toBe(400);
    expect(res.json?.error).toBe('invalid_grant');
  });

  it('keeps refresh tokens when rotation is off', async () => {
    const fixed = await startTestIdp({ rotateRefreshTokens: false, accessTokenTtlSeconds: 30 });
    try {
      const login = await fixed.loginHeadless({});
      expect(login.tokens.expires_in).toBe(30);
      const res = await oauthPost(
        fixed.tokenEndpoint,
        { grant_type: 'refresh_token', refresh_token: login.tokens.refresh_token as string },
        fixed.clients.cli,
      );
      expect(res.status).toBe(200);
      expect(res.json?.refresh_token).toBe(login.tokens.refresh_token);
      const again = await oauthPost(
        fixed.tokenEndpoint,
        { grant_type: 'refresh_token', refresh_token: login.tokens.refresh_token as string },
        fixed.clients.cli,
      );
      expect(again.status).toBe(200);
    } finally {
      await fixed.close();
    }
  });

  it('requires PKCE and refuses a wrong code_verifier', async () => {
    const noPkce = authUrl({});
    noPkce.searchParams.delete('code_challenge');
    noPkce.searchParams.delete('code_challenge_method');
    const refused = await idp.authorize(noPkce);
    expect(refused.error).toBe('invalid_request');
    expect(refused.errorDescription).toMatch(/PKCE/);

    const ok = await idp.authorize(authUrl({}));
    expect(ok.code).toEqual(expect.any(String));
    const res = await oauthPost(
      idp.tokenEndpoint,
      {
        grant_type: 'authorization_code',
        code: ok.code as string,
        redirect_uri: 'http://127.0.0.1:40000/callback',
        code_verifier: 'x'.repeat(43),
      },
      idp.clients.cli,
    );
    expect(res.status).toBe(400);
    expect(res.json?.error).toBe('invalid_grant');
  });

  it('answers invalid_target for a resource it does not know', async () => {
    const result = await idp.authorize(authUrl({ resource: 'https://unknown.test/mcp' }));
    expect(result.error).toBe('invalid_target');
    expect(result.state).toBe('s1');
    expect(result.iss).toBe(idp.issuer);
  });

  it('serves a username login page a browser can fill (form ids login/username/submit)', async () => {
    const first = await fetch(authUrl({}), { redirect: 'manual' });
    expect(first.status).toBe(303);
    const cookies = first.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const page = await fetch(new URL(first.headers.get('location') as string, idp.issuer), {
      headers: { cookie: cookies },
    });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<form id="login" method="post"');
    expect(html).toContain('id="username"');
    expect(html).toContain('id="submit"');
  });

  it('delivers the redirect to a real callback server', async () => {
    const seen: string[] = [];
    const callback: Server = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.end('done');
    });
    await new Promise<void>((r) => callback.listen(0, '127.0.0.1', r));
    try {
      const { port } = callback.address() as AddressInfo;
      const redirectUri = `http://127.0.0.1:${port}/callback`;
      const result = await idp.authorize(authUrl({ redirect_uri: redirectUri, state: 'xyz' }), {
        deliver: true,
      });
      expect(result.callback).toEqual({ status: 200, body: 'done' });
      expect(seen).toHaveLength(1);
      const delivered = new URL(seen[0] as string, redirectUri);
      expect(delivered.searchParams.get('code')).toBe(result.code);
      expect(delivered.searchParams.get('state')).toBe('xyz');
      expect(delivered.searchParams.get('iss')).toBe(idp.issuer);
    } finally {
      await new Promise<void>((r) => callback.close(() => r()));
    }
  });

  it('the Cancel button ends the flow with access_denied at the client', async () => {
    const first = await fetch(authUrl({ state: 'c1' }), { redirect: 'manual' });
    const cookies = first.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const loginPage = new URL(first.headers.get('location') as string, idp.issuer);
    const abort = await fetch(new URL(`${loginPage.pathname}/abort`, idp.issuer), {
      method: 'POST',
      headers: { cookie: cookies },
      redirect: 'manual',
    });
    expect(abort.status).toBe(303);
    const resume = await fetch(new URL(abort.headers.get('location') as string, idp.issuer), {
      headers: { cookie: cookies },
      redirect: 'manual',
    });
    const back = new URL(resume.headers.get('location') as string);
    expect(back.origin).toBe('http://127.0.0.1:40000');
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('state')).toBe('c1');
  });

  it('autoLogin completes interactions without the form', async () => {
    idp.setAutoLogin('grace');
    try {
      const res = await fetch(authUrl({}), { redirect: 'manual' });
      const cookies = res.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
      const interaction = await fetch(new URL(res.headers.get('location') as string, idp.issuer), {
        headers: { cookie: cookies },
        redirect: 'manual',
      });
      expect(interaction.status).toBe(303);
      const login = await idp.loginHeadless({});
      const { payload } = await jwtVerify(login.tokens.access_token, jwks, { audience: idp.resource });
      expect(payload.sub).toBe('grace');
    } finally {
      idp.setAutoLogin(undefined);
    }
  });

  it('userinfo returns the account claims for the granted scopes', async () => {
    const login = await idp.loginHeadless({ scope: 'openid email profile groups', resource: null });
    const res = await fetch(idp.userinfoEndpoint, {
      headers: { authorization: `Bearer ${login.tokens.access_token}` },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      sub: 'alice',
      email: 'alice@example.test',
      name: 'Alice Liddell',
      groups: ['engineering', 'admins'],
    });
  });
});

describe('device authorization grant (RFC 8628)', () => {
  const start = async () => {
    const res = await oauthPost(
      idp.deviceAuthorizationEndpoint,
      { scope: 'openid offline_access mcp:tools', resource: idp.resource },
      idp.clients.cli,
    );
    expect(res.status).toBe(200);
    return res.json as {
      device_code: string;
      user_code: string;
      verification_uri: string;
      verification_uri_complete: string;
      interval: number;
    };
  };
  const poll = (deviceCode: string) =>
    oauthPost(
      idp.tokenEndpoint,
      { grant_type: DEVICE_CODE_GRANT, device_code: deviceCode, resource: idp.resource },
      idp.clients.cli,
    );

  it('completes through the headless approval path', async () => {
    const before = idp.hits.deviceAuthorization;
    const device = await start();
    expect(idp.hits.deviceAuthorization).toBe(before + 1);
    expect(device.verification_uri).toBe(`${idp.issuer}/device`);
    const pending = await poll(device.device_code);
    expect(pending.json?.error).toBe('authorization_pending');
    await idp.approveDevice(device.user_code, { username: 'heidi' });
    const done = await poll(device.device_code);
    expect(done.status).toBe(200);
    const { payload } = await jwtVerify(done.json?.access_token as string, jwks, { audience: idp.resource });
    expect(payload.sub).toBe('heidi');
    expect(done.json?.refresh_token).toEqual(expect.any(String));
  });

  it('abort → access_denied; unknown user code is refused', async () => {
    const device = await start();
    await idp.approveDevice(device.user_code, { deny: true });
    const denied = await poll(device.device_code);
    expect(denied.json?.error).toBe('access_denied');
    await expect(idp.approveDevice('BCDF-GHJK')).rejects.toThrow(/not accepted/);
  });
});
