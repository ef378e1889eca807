/**
 * The auth middleware against the testkit's real OAuth 2.1 / OIDC provider (oidc-provider) issuing
 * real tokens: JWT access tokens validated with the JWKS found through OIDC discovery of the issuer
 * (no `jwksUrl`), tokens for another resource, key rotation at the IdP while the middleware runs,
 * the IdP going away after warm-up, and RFC 7662 introspection of real opaque tokens.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { ProxyHttpError } from '@bastion-mcp/proxy-core';
import { startTestIdp, type TestIdp } from '@bastion-mcp/testkit';
import { decodeProtectedHeader } from 'jose';
import {
  AuthErrorCode,
  type AuthMiddleware,
  AuthUnavailableError,
  createAuthMiddleware,
  type OAuthAuthMiddlewareOptions,
} from '../src/index.js';
import { makeExchange, recordingNext } from './helpers/exchange.js';
import { lastRequest, until } from './helpers/idp.js';

const OTHER_RESOURCE = 'https://other.bastion.test/mcp';
let idp: TestIdp;
const middlewares: AuthMiddleware[] = [];

function auth(options: Partial<OAuthAuthMiddlewareOptions> = {}): AuthMiddleware {
  const m = createAuthMiddleware({
    issuer: idp.issuer,
    resource: idp.resource,
    claims: { roles: 'realm_access.roles' },
    ...options,
  } as OAuthAuthMiddlewareOptions);
  middlewares.push(m);
  return m;
}

/** An auth middleware that also introspects opaque tokens (endpoint discovered from the issuer). */
function authWithIntrospection(options: Partial<OAuthAuthMiddlewareOptions> = {}): AuthMiddleware {
  return auth({
    audience: [idp.resource, idp.opaqueResource],
    introspection: {
      clientId: idp.clients.introspector.clientId,
      clientSecret: idp.clients.introspector.clientSecret,
      retryAfterSeconds: 3,
    },
    ...options,
  });
}

async function accept(m: AuthMiddleware, token: string) {
  const ex = makeExchange({ authorization: `Bearer ${token}` });
  const rec = recordingNext();
  const res = await m.handle(ex, rec.next);
  expect(res.status).toBe(200);
  expect(rec.calls).toBe(1);
  expect(ex.inboundToken).toBe(token);
  return ex;
}

async function reject(m: AuthMiddleware, token: string): Promise<ProxyHttpError> {
  const ex = makeExchange({ authorization: `Bearer ${token}` });
  const rec = recordingNext();
  const err = await m.handle(ex, rec.next).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ProxyHttpError);
  expect(rec.calls).toBe(0);
  expect(ex.identity).toBeUndefined();
  expect(ex.inboundToken).toBeUndefined();
  expect(JSON.stringify((err as ProxyHttpError).oauthError)).not.toContain(token);
  return err as ProxyHttpError;
}

beforeAll(async () => {
  idp = await startTestIdp({ resources: [{ identifier: OTHER_RESOURCE }] });
});

afterEach(async () => {
  idp.setFault('introspection', null);
  idp.setFault('jwks', null);
  await idp.start();
});

afterAll(async () => {
  for (const m of middlewares) await m.close?.();
  await idp.close();
});

describe('JWT access tokens from the real IdP', () => {
  it('accepts a real token with the JWKS discovered from the issuer, and maps its claims', async () => {
    const before = { discovery: idp.hits.discovery, jwks: idp.hits.jwks };
    const m = auth({ jwt: { typ: 'at+jwt' }, warmUp: false });
    const token = await idp.issueAccessToken({ sub: 'alice', scope: 'mcp:tools mcp:read' });
    expect(decodeProtectedHeader(token)).toMatchObject({ typ: 'at+jwt', kid: idp.currentKid });
    const ex = await accept(m, token);
    expect(ex.identity).toMatchObject({
      subject: 'alice',
      name: 'Alice Liddell',
      email: 'alice@example.test',
      groups: ['engineering', 'admins'],
      roles: ['mcp-admin', 'mcp-user'],
      scopes: ['mcp:tools', 'mcp:read'],
      tokenKind: 'jwt',
    });
    expect(ex.identity?.claims).toMatchObject({
      iss: idp.issuer,
      aud: idp.resource,
      client_id: idp.clients.cli.clientId,
    });
    expect(JSON.stringify(ex.identity)).not.toContain(token);
    // Discovery of the issuer found the jwks_uri: one discovery document, one JWKS.
    expect(idp.hits.discovery - before.discovery).toBe(1);
    expect(idp.hits.jwks - before.jwks).toBe(1);
    // A second real token is verified with the cached keys.
    await accept(m, await idp.issueAccessToken({ sub: 'bob' }));
    expect(idp.hits.jwks - before.jwks).toBe(1);
  });

  it('refuses a real token the IdP issued for another resource (wrong audience)', async () => {
    const token = await idp.issueAccessToken({ sub: 'alice', resource: OTHER_RESOURCE });
    const err = await reject(auth(), token);
    expect(err.status).toBe(401);
    expect(err.code).toBe(AuthErrorCode.AudienceMismatch);
    expect(err.headers['www-authenticate']).toContain('error="invalid_token"');
    // The same token is fine for the resource it was issued for.
    const ex = await accept(auth({ resource: OTHER_RESOURCE }), token);
    expect(ex.identity?.subject).toBe('alice');
  });

  it('fails closed (503) when the discovered issuer differs from the configured one', async () => {
    // RFC 8414 §3.3: the document's issuer must equal the configured one exactly; a trailing slash
    // is another issuer, so no keys are used at all.
    const m = auth({ issuer: `${idp.issuer}/`, warmUp: false });
    const err = await reject(m, await idp.issueAccessToken({ sub: 'alice' }));
    expect(err.status).toBe(503);
    expect(err.oauthError?.error).toBe('temporarily_unavailable');
  });

  it('follows a key rotation at the IdP mid-test, without restart', async () => {
    const m = auth({ jwks: { cooldownMs: 0 }, jwt: { cacheTtlMs: 0 } });
    const oldToken = await idp.issueAccessToken({ sub: 'alice' });
    await accept(m, oldToken);
    const jwksBefore = idp.hits.jwks;

    const { kid, previousKid } = idp.rotateKeys();
    const newToken = await idp.issueAccessToken({ sub: 'alice' });
    expect(decodeProtectedHeader(newToken).kid).toBe(kid);
    expect(decodeProtectedHeader(oldToken).kid).toBe(previousKid);
    // The unknown kid triggers one refetch; the new key verifies the new token.
    expect((await accept(m, newToken)).identity?.subject).toBe('alice');
    expect(idp.hits.jwks - jwksBefore).toBe(1);
    // The previous key is retained by the IdP: old tokens keep working, with no further fetch.
    await accept(m, oldToken);
    expect(idp.hits.jwks - jwksBefore).toBe(1);

    // Rotated again, dropping every previous key: once the middleware refetched, tokens of the
    // dropped keys are refused.
    idp.rotateKeys({ retainPrevious: false });
    await accept(m, await idp.issueAccessToken({ sub: 'bob' }));
    expect(idp.hits.jwks - jwksBefore).toBe(2);
    const err = await reject(m, oldToken);
    expect(err.status).toBe(401);
    expect(err.code).toBe(AuthErrorCode.UnknownSigningKey);
  });

  it('keeps validating with the cached keys when the IdP is stopped after warm-up, and reports it', async () => {
    idp.pruneKeys(); // a known key set: the current key only
    const m = auth({ jwks: { cooldownMs: 0, errorRetryMs: 0 }, jwt: { cacheTtlMs: 0 } });
    await m.authenticator?.jwks?.refresh();
    expect(m.readiness?.()).toEqual({ ready: true, detail: 'JWKS: 1 key(s)' });
    await accept(m, await idp.issueAccessToken({ sub: 'alice' }));

    await idp.stop();
    // The provider still signs while its HTTP server is down (issueAccessToken is in-process).
    const whileDown = await idp.issueAccessToken({ sub: 'bob' });
    const failed = await m.authenticator?.jwks?.refresh().catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(AuthUnavailableError);
    expect((failed as AuthUnavailableError).code).toBe(AuthErrorCode.JwksUnavailable);
    expect((await accept(m, whileDown)).identity?.subject).toBe('bob');
    const ready = m.readiness?.();
    expect(ready?.ready).toBe(true);
    expect(ready?.detail).toMatch(/^JWKS refresh failing since .+; serving 1 cached key\(s\)$/);

    // A key rotated during the outage cannot be fetched: its tokens are refused, never accepted…
    idp.rotateKeys();
    const rotatedDuringOutage = await idp.issueAccessToken({ sub: 'alice' });
    const err = await reject(m, rotatedDuringOutage);
    expect(err.code).toBe(AuthErrorCode.UnknownSigningKey);
    // …until the IdP is back: then the same token is accepted, still without restart.
    await idp.start();
    await accept(m, rotatedDuringOutage);
    expect(m.readiness?.()).toEqual({ ready: true, detail: 'JWKS: 2 key(s)' });
  });

  it('fails closed (503) and reports not ready when the IdP is down before the first key fetch', async () => {
    const token = await idp.issueAccessToken({ sub: 'alice' });
    await idp.stop();
    const m = auth({ warmUp: false, discovery: { retryMs: 0 }, jwks: { errorRetryMs: 0 } });
    const err = await reject(m, token);
    expect(err.status).toBe(503);
    expect(err.code).toBe(AuthErrorCode.JwksUnavailable);
    expect(err.headers['retry-after']).toBe('1');
    expect(m.readiness?.().ready).toBe(false);
    await idp.start();
    expect((await accept(m, token)).identity?.subject).toBe('alice');
  });
});

describe('introspection of real opaque tokens', () => {
  it('introspects opaque tokens (endpoint discovered) and validates JWTs locally', async () => {
    const m = authWithIntrospection();
    const opaque = await idp.issueAccessToken({
      sub: 'bob',
      resource: idp.opaqueResource,
      scope: 'mcp:read',
    });
    const before = idp.hits.introspection;
    const ex = await accept(m, opaque);
    expect(ex.identity).toMatchObject({
      subject: 'bob',
      email: 'bob@example.test',
      groups: ['sales'],
      roles: ['mcp-user'],
      scopes: ['mcp:read'],
      tokenKind: 'opaque',
    });
    expect(ex.identity?.claims).toMatchObject({ client_id: idp.clients.cli.clientId, iss: idp.issuer });
    expect(idp.hits.introspection - before).toBe(1);
    const call = lastRequest(idp, 'introspection');
    expect(call.clientId).toBe(idp.clients.introspector.clientId);
    expect(call.params.token).toBe(opaque);

    const jwt = await accept(m, await idp.issueAccessToken({ sub: 'alice' }));
    expect(jwt.identity?.tokenKind).toBe('jwt');
    expect(idp.hits.introspection - before).toBe(1);
  });

  it('caches introspection results: one IdP hit for repeated and concurrent use', async () => {
    const m = authWithIntrospection();
    const opaque = await idp.issueAccessToken({ sub: 'alice', resource: idp.opaqueResource });
    const before = idp.hits.introspection;
    idp.setFault('introspection', 'slow');
    const concurrent = Promise.all(Array.from({ length: 10 }, () => accept(m, opaque)));
    await until(() => idp.hits.introspection > before, 'introspection request');
    idp.setFault('introspection', null);
    await concurrent;
    for (let n = 0; n < 5; n++) await accept(m, opaque);
    expect(idp.hits.introspection - before).toBe(1);
  });

  it('refuses a revoked token with 401 invalid_token and the exact challenge', async () => {
    const m = authWithIntrospection({ scopesSupported: ['mcp:read'] });
    const opaque = await idp.issueAccessToken({ sub: 'dave', resource: idp.opaqueResource });
    expect(await idp.revokeGrants({ sub: 'dave' })).toBe(1);
    const err = await reject(m, opaque);
    expect(err.status).toBe(401);
    expect(err.code).toBe(AuthErrorCode.TokenInactive);
    expect(err.headers['www-authenticate']).toBe(
      `Bearer realm="${idp.issuer}", resource_metadata="https://mcp.bastion.test/.well-known/oauth-protected-resource/jwt", scope="mcp:read", error="invalid_token", error_description="The access token is not active"`,
    );
    expect(err.oauthError).toEqual({
      error: 'invalid_token',
      error_description: 'The access token is not active',
    });
  });

  it('answers 503 + Retry-After (never accepts) when the introspection endpoint is down', async () => {
    const m = authWithIntrospection();
    // Discovery happens on first use: warm it up with one token, then take the IdP down.
    await accept(m, await idp.issueAccessToken({ sub: 'alice', resource: idp.opaqueResource }));
    const opaque = await idp.issueAccessToken({ sub: 'bob', resource: idp.opaqueResource });
    await idp.stop();
    const down = await reject(m, opaque);
    expect(down.status).toBe(503);
    expect(down.code).toBe(AuthErrorCode.IntrospectionUnavailable);
    expect(down.headers['retry-after']).toBe('3');
    expect(down.oauthError?.error).toBe('temporarily_unavailable');
    await idp.start();
    idp.setFault('introspection', '500');
    expect((await reject(m, opaque)).status).toBe(503);
    idp.setFault('introspection', null);
    // Failures were not cached: the token is accepted as soon as the endpoint answers.
    expect((await accept(m, opaque)).identity?.subject).toBe('bob');
  });
});
