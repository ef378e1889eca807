import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '@bastion-mcp/testkit';
import { ProxyHttpError } from '@bastion-mcp/proxy-core';
import {
  type AuthMiddleware,
  AuthErrorCode,
  createAnonymousAuthMiddleware,
  createAuthMiddleware,
  type OAuthAuthMiddlewareOptions,
} from '../src/index.js';
import { makeExchange, recordingNext } from './helpers/exchange.js';
import { type LocalIssuer, startLocalIssuer } from './helpers/local-issuer.js';

const RESOURCE = 'https://proxy.test/mcp';
const PRM = 'https://proxy.test/.well-known/oauth-protected-resource/mcp';
let idp: LocalIssuer;
const middlewares: AuthMiddleware[] = [];

function auth(options: Partial<OAuthAuthMiddlewareOptions> = {}): AuthMiddleware {
  const m = createAuthMiddleware({
    issuer: idp.issuer,
    resource: RESOURCE,
    jwks: { cooldownMs: 0 },
    ...options,
  } as OAuthAuthMiddlewareOptions);
  middlewares.push(m);
  return m;
}

async function reject(m: AuthMiddleware, authorization: string | undefined): Promise<ProxyHttpError> {
  const ex = makeExchange({ authorization });
  const rec = recordingNext();
  const err = await m.handle(ex, rec.next).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ProxyHttpError);
  expect(rec.calls).toBe(0);
  expect(ex.identity).toBeUndefined();
  expect(ex.inboundToken).toBeUndefined();
  expect(ex.notes.rejectedBy).toBe('auth');
  return err as ProxyHttpError;
}

beforeAll(async () => {
  idp = await startLocalIssuer({ audience: RESOURCE });
});

afterAll(async () => {
  for (const m of middlewares) await m.close?.();
  await idp.close();
});

describe('createAuthMiddleware (JWT)', () => {
  it('sets identity and the in-memory inbound token, then calls next', async () => {
    const m = auth({ claims: { roles: 'realm_access.roles' } });
    const token = await idp.mint({
      sub: 'u1',
      name: 'Ann',
      email: 'ann@x.test',
      groups: ['eng'],
      realm_access: { roles: ['admin'] },
      scope: 'mcp:read mcp:write',
    });
    const ex = makeExchange({ authorization: `Bearer ${token}` });
    const rec = recordingNext();
    const res = await m.handle(ex, rec.next);
    expect(res.status).toBe(200);
    expect(rec.calls).toBe(1);
    expect(ex.identity).toMatchObject({
      subject: 'u1',
      name: 'Ann',
      email: 'ann@x.test',
      groups: ['eng'],
      roles: ['admin'],
      scopes: ['mcp:read', 'mcp:write'],
      tokenKind: 'jwt',
    });
    expect(ex.inboundToken).toBe(token);
    expect(ex.notes.auth).toEqual({ tokenKind: 'jwt' });
    // The token is nowhere but the non-enumerable slot.
    expect(JSON.stringify(ex)).not.toContain(token);
    expect(JSON.stringify(ex.identity)).not.toContain(token);
    expect(JSON.stringify(ex.notes)).not.toContain(token);
    expect(Object.keys(ex)).not.toContain('inboundToken');
    expect(ex.upstreamHeaders.authorization).toBeUndefined();
  });

  it('answers a missing token with 401 and a challenge without error (RFC 6750 §3.1)', async () => {
    const err = await reject(auth(), undefined);
    expect(err.status).toBe(401);
    expect(err.code).toBe(AuthErrorCode.MissingToken);
    expect(err.headers['www-authenticate']).toBe(`Bearer realm="${idp.issuer}", resource_metadata="${PRM}"`);
    expect(err.oauthError).toEqual({ error: 'invalid_token', error_description: 'Missing bearer token' });
  });

  it('treats another scheme like a missing token', async () => {
    const err = await reject(auth(), 'Basic Zm9vOmJhcg==');
    expect(err.headers['www-authenticate']).toBe(`Bearer realm="${idp.issuer}", resource_metadata="${PRM}"`);
  });

  it('answers an invalid token with the exact WWW-Authenticate format', async () => {
    const m = auth({ scopesSupported: ['openid', 'mcp:read'] });
    const now = Math.floor(Date.now() / 1000);
    const err = await reject(m, `Bearer ${await idp.mint({ sub: 'u1', exp: now - 3600 })}`);
    expect(err.status).toBe(401);
    expect(err.headers['www-authenticate']).toBe(
      `Bearer realm="${idp.issuer}", resource_metadata="${PRM}", scope="openid mcp:read", error="invalid_token", error_description="The access token expired"`,
    );
    expect(err.oauthError).toEqual({ error: 'invalid_token', error_description: 'The access token expired' });
  });

  it.each([
    ['wrong iss', { iss: 'https://evil.test' }, AuthErrorCode.IssuerMismatch],
    ['wrong aud', { aud: 'https://other.test/mcp' }, AuthErrorCode.AudienceMismatch],
    ['missing sub', { sub: undefined }, AuthErrorCode.MissingUserId],
  ])('rejects a token with %s', async (_name, claims, code) => {
    const err = await reject(auth(), `Bearer ${await idp.mint({ sub: 'u1', ...claims })}`);
    expect(err.status).toBe(401);
    expect(err.code).toBe(code);
    expect(err.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('accepts an aud array containing the resource', async () => {
    const m = auth();
    const ex = makeExchange({
      authorization: `Bearer ${await idp.mint({ sub: 'u1', aud: ['x', RESOURCE] })}`,
    });
    await m.handle(ex, recordingNext().next);
    expect(ex.identity?.subject).toBe('u1');
  });

  it('rejects alg none, HS256 confusion, unknown kid, unknown crit and garbage', async () => {
    const m = auth();
    const cases: [string, string][] = [
      [await idp.mint({ sub: 'u1' }, { alg: 'none' }), AuthErrorCode.AlgorithmNotAllowed],
      [await idp.mint({ sub: 'u1' }, { alg: 'HS256' }), AuthErrorCode.AlgorithmNotAllowed],
      [await idp.mint({ sub: 'u1' }, { kid: 'k9' }), AuthErrorCode.UnknownSigningKey],
      [
        await idp.mint({ sub: 'u1' }, { header: { crit: ['x-ext'], 'x-ext': true } }),
        AuthErrorCode.UnsupportedCritical,
      ],
      ['!!!garbage', AuthErrorCode.MalformedToken],
      ['Zm9v.YmFy.YmF6', AuthErrorCode.UnsupportedToken],
    ];
    for (const [token, code] of cases) {
      const err = await reject(m, `Bearer ${token}`);
      expect({ code: err.code, status: err.status }).toEqual({ code, status: 401 });
      expect(JSON.stringify(err.oauthError)).not.toContain(token.slice(0, 20));
    }
  });

  it('rejects a 64 KiB token early', async () => {
    const m = auth();
    const before = idp.hits.jwks;
    const err = await reject(m, `Bearer ${'a'.repeat(64 * 1024)}`);
    expect(err.code).toBe(AuthErrorCode.TokenTooLarge);
    expect(err.oauthError?.error).toBe('invalid_token');
    expect(idp.hits.jwks - before).toBeLessThanOrEqual(1); // at most the warm-up fetch
  });

  it('answers 403 insufficient_scope with the required scopes', async () => {
    const m = auth({ requiredScopes: ['mcp:read', 'mcp:admin'] });
    const err = await reject(m, `Bearer ${await idp.mint({ sub: 'u1', scope: 'mcp:read' })}`);
    expect(err.status).toBe(403);
    expect(err.headers['www-authenticate']).toBe(
      `Bearer realm="${idp.issuer}", resource_metadata="${PRM}", scope="mcp:read mcp:admin", error="insufficient_scope", error_description="The access token does not grant the required scope"`,
    );
    expect(err.oauthError?.error).toBe('insufficient_scope');
    const ok = makeExchange({
      authorization: `Bearer ${await idp.mint({ sub: 'u1', scp: ['mcp:admin', 'mcp:read'] })}`,
    });
    await m.handle(ok, recordingNext().next);
    expect(ok.identity?.subject).toBe('u1');
  });

  it('discovers the JWKS from the issuer and reports readiness', async () => {
    const m = auth();
    // warm-up started at creation; readiness turns true once the JWKS was fetched
    await m.authenticator?.jwks?.refresh();
    expect(m.readiness?.()).toEqual({ ready: true, detail: 'JWKS: 4 key(s)' });
  });

  it('answers 503 with Retry-After when no JWKS can be fetched (fail closed)', async () => {
    const port = await freePort();
    const m = auth({ jwksUrl: `http://127.0.0.1:${port}/jwks`, warmUp: false });
    const err = await reject(m, `Bearer ${await idp.mint({ sub: 'u1' })}`);
    expect(err.status).toBe(503);
    expect(err.headers['retry-after']).toBe('2');
    expect(err.oauthError?.error).toBe('temporarily_unavailable');
    expect(m.readiness?.().ready).toBe(false);
  });

  it('validates its options', () => {
    expect(() => createAuthMiddleware({ issuer: idp.issuer } as OAuthAuthMiddlewareOptions)).toThrow(
      /"resource"/,
    );
    expect(() => createAuthMiddleware({ resource: RESOURCE })).toThrow(/introspection/);
    expect(() => createAuthMiddleware({ resource: RESOURCE, issuer: 'http://idp.example.com' })).toThrow(
      /https/,
    );
    expect(() => createAuthMiddleware({ mode: 'bogus' } as unknown as OAuthAuthMiddlewareOptions)).toThrow(
      /"mode"/,
    );
    expect(() => auth({ maxTokenBytes: 0 })).toThrow(/"maxTokenBytes"/);
  });
});

describe('createAuthMiddleware (introspection)', () => {
  it('routes opaque tokens to introspection and JWTs to the JWT path', async () => {
    const m = auth({
      introspection: { clientId: 'proxy', clientSecret: 'secret' },
      claims: { groups: 'groups' },
    });
    idp.setIntrospection('opaque-tok', {
      active: true,
      sub: 'u2',
      groups: ['ops'],
      exp: Math.floor(Date.now() / 1000) + 600,
    });
    const before = { jwks: idp.hits.jwks, introspection: idp.hits.introspection };
    const ex = makeExchange({ authorization: 'Bearer opaque-tok' });
    await m.handle(ex, recordingNext().next);
    expect(ex.identity).toMatchObject({ subject: 'u2', groups: ['ops'], tokenKind: 'opaque' });
    expect(ex.inboundToken).toBe('opaque-tok');
    const jwt = makeExchange({ authorization: `Bearer ${await idp.mint({ sub: 'u3' })}` });
    await m.handle(jwt, recordingNext().next);
    expect(jwt.identity?.tokenKind).toBe('jwt');
    expect(idp.hits.introspection - before.introspection).toBe(1);
  });

  it('answers 401 for an inactive token and 503 + Retry-After when the endpoint is down', async () => {
    const m = auth({
      jwt: false,
      introspection: {
        url: idp.introspectionEndpoint,
        clientId: 'p',
        clientSecret: 's',
        retryAfterSeconds: 9,
      },
    });
    idp.setIntrospection('dead', { active: false });
    const inactive = await reject(m, 'Bearer dead');
    expect(inactive.status).toBe(401);
    expect(inactive.headers['www-authenticate']).toBe(
      `Bearer realm="${idp.issuer}", resource_metadata="${PRM}", error="invalid_token", error_description="The access token is not active"`,
    );
    idp.introspectionMode = 'error500';
    try {
      const down = await reject(m, 'Bearer other-token');
      expect(down.status).toBe(503);
      expect(down.headers['retry-after']).toBe('9');
    } finally {
      idp.introspectionMode = 'ok';
    }
  });
});

describe('anonymous mode', () => {
  it('sets a local identity and keeps no token', async () => {
    for (const m of [
      createAnonymousAuthMiddleware({ subject: 'me' }),
      createAuthMiddleware({ mode: 'anonymous', anonymous: { subject: 'me' } }),
    ]) {
      const ex = makeExchange({ authorization: 'Bearer whatever' });
      const rec = recordingNext();
      await m.handle(ex, rec.next);
      expect(rec.calls).toBe(1);
      expect(m.name).toBe('auth');
      expect(ex.identity).toMatchObject({ subject: 'me', tokenKind: 'anonymous', groups: [], scopes: [] });
      expect(ex.inboundToken).toBeUndefined();
      expect(m.readiness?.().ready).toBe(true);
    }
  });
});

describe('protected-resource metadata routes', () => {
  let server: Server;
  let origin: string;
  let m: AuthMiddleware;

  beforeAll(async () => {
    m = auth({ scopesSupported: ['mcp:read'], resourceName: 'Demo' });
    const routes = m.routes ?? [];
    server = createServer((req, res) => {
      const route = routes.find((r) => r.method === req.method && r.path === req.url);
      if (route) return void route.handle(req, res);
      res.writeHead(404);
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('serves the RFC 9728 document at the root and path-suffixed well-known URLs', async () => {
    for (const path of [
      '/.well-known/oauth-protected-resource',
      '/.well-known/oauth-protected-resource/mcp',
    ]) {
      const res = await fetch(`${origin}${path}`, { headers: { origin: 'https://app.test' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(await res.json()).toEqual({
        resource: RESOURCE,
        authorization_servers: [idp.issuer],
        bearer_methods_supported: ['header'],
        scopes_supported: ['mcp:read'],
        resource_name: 'Demo',
      });
    }
  });

  it('answers a CORS preflight with 204', async () => {
    const res = await fetch(`${origin}/.well-known/oauth-protected-resource/mcp`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.test',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'mcp-protocol-version',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, HEAD, OPTIONS');
    expect(res.headers.get('access-control-allow-headers')).toContain('mcp-protocol-version');
    expect(res.headers.get('access-control-max-age')).toBe('86400');
  });
});
