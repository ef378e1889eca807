import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort, type MintOptions, startTokenMinter, type TokenMinter } from '@bastion-mcp/testkit';
import { ProxyHttpError } from '@bastion-mcp/proxy-core';
import {
  type AuthMiddleware,
  AuthErrorCode,
  createAnonymousAuthMiddleware,
  createAuthMiddleware,
  type OAuthAuthMiddlewareOptions,
} from '../src/index.js';
import { makeExchange, recordingNext } from './helpers/exchange.js';

/**
 * The middleware's edge cases with tokens from the testkit token minter, which signs anything
 * (invalid tokens included) and serves discovery and its JWKS over real HTTP: the middleware
 * discovers the JWKS from the minter's issuer. Real tokens from the real IdP (oidc-provider) go
 * through the middleware in `real-idp.test.ts`.
 */
const RESOURCE = 'https://proxy.test/mcp';
const PRM = 'https://proxy.test/.well-known/oauth-protected-resource/mcp';
let idp: TokenMinter;

function mint(claims: Record<string, unknown>, options: Omit<MintOptions, 'claims'> = {}): Promise<string> {
  return idp.mint({ ...options, claims: { aud: RESOURCE, ...claims } });
}
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
  idp = await startTokenMinter();
});

afterAll(async () => {
  for (const m of middlewares) await m.close?.();
  await idp.close();
});

describe('createAuthMiddleware (JWT)', () => {
  it('sets identity and the in-memory inbound token, then calls next', async () => {
    const m = auth({ claims: { roles: 'realm_access.roles' } });
    const token = await mint({
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
    const err = await reject(m, `Bearer ${await mint({ sub: 'u1', exp: now - 3600 })}`);
    expect(err.status).toBe(401);
    expect(err.headers['www-authenticate']).toBe(
      `Bearer realm="${idp.issuer}", resource_metadata="${PRM}", scope="openid mcp:read", error="invalid_token", error_description="The access token expired"`,
    );
    expect(err.oauthError).toEqual({ error: 'invalid_token', error_description: 'The access token expired' });
  });

  it.each([
    ['wrong iss', { iss: 'https://evil.test' }, AuthErrorCode.IssuerMismatch],
    ['wrong aud', { aud: 'https://other.test/mcp' }, AuthErrorCode.AudienceMismatch],
    ['no aud', { aud: undefined }, AuthErrorCode.AudienceMismatch],
    ['missing sub', { sub: undefined }, AuthErrorCode.MissingUserId],
    ['missing exp', { exp: undefined }, AuthErrorCode.InvalidClaim],
    ['an expired exp', { exp: Math.floor(Date.now() / 1000) - 3600 }, AuthErrorCode.TokenExpired],
    ['nbf in the future', { nbf: Math.floor(Date.now() / 1000) + 3600 }, AuthErrorCode.TokenNotYetValid],
  ])('rejects a token with %s', async (_name, claims, code) => {
    const token = await mint({ sub: 'u1', ...claims });
    const err = await reject(auth(), `Bearer ${token}`);
    expect(err.status).toBe(401);
    expect(err.code).toBe(code);
    expect(err.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(`${err.message} ${JSON.stringify(err.oauthError)} ${JSON.stringify(err.headers)}`).not.toContain(
      token.split('.')[1] as string,
    );
  });

  it('accepts an aud array containing the resource', async () => {
    const m = auth();
    const ex = makeExchange({
      authorization: `Bearer ${await mint({ sub: 'u1', aud: ['x', RESOURCE] })}`,
    });
    await m.handle(ex, recordingNext().next);
    expect(ex.identity?.subject).toBe('u1');
  });

  it('rejects alg none, HS256 confusion, unknown kid, unknown crit and garbage', async () => {
    const m = auth();
    const signingInput = (await mint({ sub: 'u1' })).split('.').slice(0, 2).join('.');
    const cases: [string, string, string][] = [
      ['alg none', await mint({ sub: 'u1' }, { alg: 'none' }), AuthErrorCode.AlgorithmNotAllowed],
      [
        'alg none with a signature',
        `${await mint({ sub: 'u1' }, { alg: 'none' })}c2ln`,
        AuthErrorCode.AlgorithmNotAllowed,
      ],
      [
        'HS256 keyed with the RSA public key PEM',
        await mint({ sub: 'u1' }, { alg: 'HS256', kid: idp.kids.rsa }),
        AuthErrorCode.AlgorithmNotAllowed,
      ],
      ['kid not in the JWKS', await mint({ sub: 'u1' }, { kid: 'k9' }), AuthErrorCode.UnknownSigningKey],
      [
        'unknown crit',
        await mint({ sub: 'u1' }, { header: { crit: ['x-ext'], 'x-ext': true } }),
        AuthErrorCode.UnsupportedCritical,
      ],
      ['garbage', '!!!garbage', AuthErrorCode.MalformedToken],
      ['garbage base64 signature', `${signingInput}.!!!`, AuthErrorCode.MalformedToken],
      ['base64 that is no JWT', 'Zm9v.YmFy.YmF6', AuthErrorCode.UnsupportedToken],
      [
        'a non-JSON payload',
        await idp.mintRaw({ alg: 'RS256', kid: idp.kids.rsa }, 'not json'),
        AuthErrorCode.MalformedToken,
      ],
    ];
    for (const [name, token, code] of cases) {
      const err = await reject(m, `Bearer ${token}`);
      expect({ name, code: err.code, status: err.status }).toEqual({ name, code, status: 401 });
      expect(JSON.stringify(err.oauthError)).not.toContain(token.slice(0, 20));
    }
  });

  it('applies every check to a token served from the verified-token cache', async () => {
    const m = auth({ requiredScopes: ['mcp:read'] });
    const token = await mint({ sub: 'u1', scope: 'mcp:read' });
    const seen = new Set<unknown>();
    // The scheme in any case, surrounding whitespace: the same token, verified once.
    for (const header of [`Bearer ${token}`, `bearer ${token}`, `BEARER   ${token}  `, `Bearer ${token}`]) {
      const ex = makeExchange({ authorization: header });
      const rec = recordingNext();
      await m.handle(ex, rec.next);
      expect(rec.calls).toBe(1);
      expect(ex.identity?.subject).toBe('u1');
      expect(ex.inboundToken).toBe(token);
      expect(ex.notes.auth).toEqual({ tokenKind: 'jwt' });
      seen.add(ex.identity);
    }
    expect(seen.size).toBe(1);
    expect(m.authenticator?.cachedIdentity(token)).toBe([...seen][0]);
    // Anything around the verified token makes it another token, refused as before it was verified.
    const others: [string, string][] = [
      [`Bearer ${token}!`, AuthErrorCode.MalformedToken],
      [`Bearer ${token} x`, AuthErrorCode.MalformedToken],
      [`Bearer ${token}.`, AuthErrorCode.UnsupportedToken],
      [`Basic ${token}`, AuthErrorCode.MissingToken],
    ];
    for (const [header, code] of others) {
      const err = await reject(m, header);
      expect({ code: err.code, status: err.status }).toEqual({ code, status: 401 });
    }
    // A remembered token that lacks a required scope, or names no user, is refused on every request.
    const weak = await mint({ sub: 'u2', scope: 'mcp:write' });
    const nobody = await mint({ scope: 'mcp:read' });
    for (let i = 0; i < 2; i++) {
      expect((await reject(m, `Bearer ${weak}`)).status).toBe(403);
      expect((await reject(m, `Bearer ${nobody}`)).code).toBe(AuthErrorCode.MissingUserId);
    }
  });

  it('rejects a 64 KiB token early, before any key lookup', async () => {
    const m = auth({ warmUp: false });
    // A validly signed token, padded to 64 KiB with a claim.
    const big = await mint({ sub: 'u1', pad: 'x'.repeat(48 * 1024) });
    expect(big.length).toBeGreaterThanOrEqual(64 * 1024);
    const before = idp.jwksHits;
    for (const token of [big, 'a'.repeat(64 * 1024)]) {
      const err = await reject(m, `Bearer ${token}`);
      expect(err.code).toBe(AuthErrorCode.TokenTooLarge);
      expect(err.status).toBe(401);
      expect(err.oauthError?.error).toBe('invalid_token');
    }
    expect(idp.jwksHits).toBe(before);
  });

  it('answers 403 insufficient_scope with the required scopes', async () => {
    const m = auth({ requiredScopes: ['mcp:read', 'mcp:admin'] });
    const err = await reject(m, `Bearer ${await mint({ sub: 'u1', scope: 'mcp:read' })}`);
    expect(err.status).toBe(403);
    expect(err.headers['www-authenticate']).toBe(
      `Bearer realm="${idp.issuer}", resource_metadata="${PRM}", scope="mcp:read mcp:admin", error="insufficient_scope", error_description="The access token does not grant the required scope"`,
    );
    expect(err.oauthError?.error).toBe('insufficient_scope');
    const ok = makeExchange({
      authorization: `Bearer ${await mint({ sub: 'u1', scp: ['mcp:admin', 'mcp:read'] })}`,
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
    const err = await reject(m, `Bearer ${await mint({ sub: 'u1' })}`);
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
