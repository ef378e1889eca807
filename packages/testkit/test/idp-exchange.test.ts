import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import {
  ACCESS_TOKEN_TYPE,
  JWT_TOKEN_TYPE,
  oauthPost,
  startTestIdp,
  type TestClient,
  type TestIdp,
  TOKEN_EXCHANGE_GRANT,
} from '../src/idp/index.js';

const UPSTREAM = 'https://upstream.test/mcp';

let idp: TestIdp;
let jwks: ReturnType<typeof createRemoteJWKSet>;

beforeAll(async () => {
  idp = await startTestIdp({
    resources: [{ identifier: UPSTREAM, scopes: ['repo:read', 'repo:write'], ttlSeconds: 120 }],
  });
  jwks = createRemoteJWKSet(new URL(idp.jwksUri));
});
afterAll(() => idp.close());

const exchange = (form: Record<string, string | string[]>, client: TestClient = idp.clients.exchanger) =>
  oauthPost(idp.tokenEndpoint, { grant_type: TOKEN_EXCHANGE_GRANT, ...form }, client);

describe('RFC 8693 token exchange', () => {
  it('exchanges a JWT subject token for a JWT with the requested audience, same sub, act and scope', async () => {
    const subject = await idp.issueAccessToken({
      sub: 'alice',
      scope: 'mcp:tools',
      claims: { tenant: 't1' },
    });
    const before = idp.hits.tokenExchange;
    const res = await exchange({
      subject_token: subject,
      subject_token_type: ACCESS_TOKEN_TYPE,
      audience: UPSTREAM,
      scope: 'repo:read',
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: 'Bearer',
      expires_in: 120,
      scope: 'repo:read',
    });
    expect(res.json?.refresh_token).toBeUndefined();
    const { payload, protectedHeader } = await jwtVerify(res.json?.access_token as string, jwks, {
      issuer: idp.issuer,
      audience: UPSTREAM,
    });
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload).toMatchObject({
      sub: 'alice',
      act: { sub: 'exchanger' },
      scope: 'repo:read',
      client_id: 'exchanger',
      email: 'alice@example.test',
      tenant: 't1',
    });
    expect(idp.hits.tokenExchange).toBe(before + 1);
  });

  it('accepts the target as `resource`, an opaque subject token, and defaults scope to the shared subset', async () => {
    idp.addResource('https://shared.test/', { scopes: ['mcp:tools', 'other'] });
    const subject = await idp.issueAccessToken({
      sub: 'bob',
      resource: idp.opaqueResource,
      scope: 'mcp:tools mcp:read',
    });
    const res = await exchange({
      subject_token: subject,
      subject_token_type: ACCESS_TOKEN_TYPE,
      resource: 'https://shared.test/',
    });
    expect(res.status).toBe(200);
    expect(res.json?.scope).toBe('mcp:tools');
    const { payload } = await jwtVerify(res.json?.access_token as string, jwks, {
      audience: 'https://shared.test/',
    });
    expect(payload).toMatchObject({ sub: 'bob', act: { sub: 'exchanger' }, groups: ['sales'] });
  });

  it('nests a previous act claim (delegation chain) and honours requested_token_type jwt', async () => {
    const first = await exchange({
      subject_token: await idp.issueAccessToken({ sub: 'alice' }),
      subject_token_type: ACCESS_TOKEN_TYPE,
      audience: idp.resource,
    });
    const second = await exchange(
      {
        subject_token: first.json?.access_token as string,
        subject_token_type: ACCESS_TOKEN_TYPE,
        requested_token_type: JWT_TOKEN_TYPE,
        audience: UPSTREAM,
      },
      idp.clients.proxy,
    );
    expect(second.status).toBe(200);
    expect(second.json?.issued_token_type).toBe(JWT_TOKEN_TYPE);
    const { payload } = await jwtVerify(second.json?.access_token as string, jwks, { audience: UPSTREAM });
    expect(payload.act).toEqual({ sub: idp.clients.proxy.clientId, act: { sub: 'exchanger' } });
  });

  it.each([
    ['client_secret_post', () => idp.clients.exchangerPost],
    ['private_key_jwt', () => idp.clients.exchangerJwt],
  ])('authenticates %s clients and records the method', async (method, client) => {
    const before = idp.requests.length;
    const res = await exchange(
      {
        subject_token: await idp.issueAccessToken({ sub: 'alice' }),
        subject_token_type: ACCESS_TOKEN_TYPE,
        audience: UPSTREAM,
      },
      client(),
    );
    expect(res.status).toBe(200);
    const { payload } = await jwtVerify(res.json?.access_token as string, jwks, { audience: UPSTREAM });
    expect(payload.act).toEqual({ sub: client().clientId });
    const recorded = idp.requests.slice(before);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({
      grantType: TOKEN_EXCHANGE_GRANT,
      clientAuthMethod: method,
      clientId: client().clientId,
    });
    expect(recorded[0]?.params).toMatchObject({ audience: UPSTREAM, subject_token_type: ACCESS_TOKEN_TYPE });
  });

  describe('errors', () => {
    let subject: string;
    beforeAll(async () => {
      subject = await idp.issueAccessToken({ sub: 'alice' });
    });

    it.each([
      [
        'missing subject_token',
        { subject_token_type: ACCESS_TOKEN_TYPE, audience: UPSTREAM },
        'invalid_request',
      ],
      ['missing subject_token_type', { subject_token: 'x', audience: UPSTREAM }, 'invalid_request'],
      [
        'unsupported subject_token_type',
        { subject_token: 'x', subject_token_type: 'urn:x', audience: UPSTREAM },
        'invalid_request',
      ],
      [
        'missing audience and resource',
        { subject_token: 'x', subject_token_type: ACCESS_TOKEN_TYPE },
        'invalid_request',
      ],
      [
        'unknown audience',
        { subject_token: 'x', subject_token_type: ACCESS_TOKEN_TYPE, audience: 'https://nope.test/' },
        'invalid_target',
      ],
      [
        'two audiences',
        {
          subject_token: 'x',
          subject_token_type: ACCESS_TOKEN_TYPE,
          audience: [UPSTREAM, 'https://mcp.bastion.test/jwt'],
        },
        'invalid_target',
      ],
      [
        'garbage subject token',
        { subject_token: 'garbage', subject_token_type: ACCESS_TOKEN_TYPE, audience: UPSTREAM },
        'invalid_grant',
      ],
    ])('%s → 400', async (_name, form, error) => {
      const res = await exchange(form as Record<string, string | string[]>);
      expect(res.status).toBe(400);
      expect(res.json?.error).toBe(error);
    });

    it('rejects a subject JWT signed by a foreign key or tampered with, with invalid_grant', async () => {
      const { startTokenMinter } = await import('../src/idp/index.js');
      const minter = await startTokenMinter({ issuer: idp.issuer });
      try {
        const foreign = await minter.mint({ claims: { sub: 'alice', aud: idp.resource } });
        const [h, p, s] = subject.split('.');
        const tampered = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p as string, 'base64url').toString()), sub: 'mallory' })).toString('base64url')}.${s}`;
        for (const token of [foreign, tampered]) {
          const res = await exchange({
            subject_token: token,
            subject_token_type: ACCESS_TOKEN_TYPE,
            audience: UPSTREAM,
          });
          expect(res.json?.error).toBe('invalid_grant');
        }
      } finally {
        await minter.close();
      }
    });

    it('rejects a revoked opaque subject token with invalid_grant', async () => {
      const opaque = await idp.issueAccessToken({ sub: 'erin', resource: idp.opaqueResource });
      const ok = await exchange({
        subject_token: opaque,
        subject_token_type: ACCESS_TOKEN_TYPE,
        audience: UPSTREAM,
      });
      expect(ok.status).toBe(200);
      await idp.revokeGrants({ sub: 'erin' });
      const res = await exchange({
        subject_token: opaque,
        subject_token_type: ACCESS_TOKEN_TYPE,
        audience: UPSTREAM,
      });
      expect(res.status).toBe(400);
      expect(res.json?.error).toBe('invalid_grant');
    });

    it('rejects scopes the audience does not accept with invalid_scope', async () => {
      const res = await exchange({
        subject_token: subject,
        subject_token_type: ACCESS_TOKEN_TYPE,
        audience: UPSTREAM,
        scope: 'repo:admin',
      });
      expect(res.status).toBe(400);
      expect(res.json?.error).toBe('invalid_scope');
    });

    it('rejects bad client authentication and clients without the grant', async () => {
      const form = { subject_token: subject, subject_token_type: ACCESS_TOKEN_TYPE, audience: UPSTREAM };
      const bad = await exchange(form, { ...idp.clients.exchanger, clientSecret: 'wrong' });
      expect(bad.status).toBe(401);
      expect(bad.json?.error).toBe('invalid_client');
      const anonymous = await oauthPost(idp.tokenEndpoint, { grant_type: TOKEN_EXCHANGE_GRANT, ...form });
      expect(anonymous.status).toBe(400);
      const notAllowed = await exchange(form, idp.clients.introspector);
      expect(notAllowed.status).toBe(400);
      expect(notAllowed.json?.error).toMatch(/unauthorized_client|invalid_request/);
    });
  });

  describe('fault injection', () => {
    const form = () => ({ subject_token_type: ACCESS_TOKEN_TYPE, audience: UPSTREAM });

    it('500, 503 and malformed answers, counted as hits; cleared with null', async () => {
      const subject = await idp.issueAccessToken({ sub: 'alice' });
      idp.setTokenEndpointFault('500');
      const before = idp.hits.tokenExchange;
      const r500 = await exchange({ ...form(), subject_token: subject });
      expect(r500.status).toBe(500);
      expect(r500.json?.error).toBe('server_error');
      idp.setTokenEndpointFault('503');
      const r503 = await exchange({ ...form(), subject_token: subject });
      expect(r503.status).toBe(503);
      expect(r503.headers.get('retry-after')).toBe('1');
      idp.setTokenEndpointFault('malformed');
      const bad = await exchange({ ...form(), subject_token: subject });
      expect(bad.status).toBe(200);
      expect(bad.json).toBeUndefined();
      idp.setTokenEndpointFault('empty-json');
      expect((await exchange({ ...form(), subject_token: subject })).json).toEqual({});
      expect(idp.hits.tokenExchange).toBe(before + 4);
      idp.setTokenEndpointFault(null);
      expect((await exchange({ ...form(), subject_token: subject })).status).toBe(200);
    });

    it('a fault limited to one grant type leaves the others alone', async () => {
      idp.setTokenEndpointFault('500', { grantType: TOKEN_EXCHANGE_GRANT });
      try {
        const cc = await oauthPost(
          idp.tokenEndpoint,
          { grant_type: 'client_credentials', resource: idp.resource },
          idp.clients.exchanger,
        );
        expect(cc.status).toBe(200);
        const ex = await exchange({ ...form(), subject_token: await idp.issueAccessToken({ sub: 'alice' }) });
        expect(ex.status).toBe(500);
      } finally {
        idp.setTokenEndpointFault(null);
      }
    });

    it('slow holds the request until the fault is cleared, then serves it', async () => {
      const subject = await idp.issueAccessToken({ sub: 'alice' });
      idp.setTokenEndpointFault('slow');
      const before = idp.hits.tokenExchange;
      let settled = false;
      const pending = exchange({ ...form(), subject_token: subject }).then((r) => {
        settled = true;
        return r;
      });
      // Wait until the request has reached the IdP (it is counted on arrival), then check it is held.
      while (idp.hits.tokenExchange === before) await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      expect(settled).toBe(false);
      idp.setTokenEndpointFault(null);
      expect((await pending).status).toBe(200);
    });

    it('validates the fault name', () => {
      expect(() => idp.setTokenEndpointFault('boom' as never)).toThrow(TypeError);
      expect(() => idp.setFault('nope' as never, '500')).toThrow(TypeError);
    });
  });
});
