/**
 * RFC 7662 introspection against the testkit's real OAuth provider (oidc-provider): the tokens are
 * real opaque access tokens it issued (`idp.opaqueResource`), backed by real grants that can be
 * revoked, and the endpoint's faults, stop/start and hit counter are the IdP's own.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort, startTestIdp, type TestIdp } from '@bastion-mcp/testkit';
import {
  AuthErrorCode,
  AuthUnavailableError,
  createIntrospector,
  createTokenAuthenticator,
  type Introspector,
  type IntrospectorOptions,
  TokenRejectedError,
} from '../src/index.js';
import { looksLikeJwt } from '../src/token-format.js';
import { lastRequest, rewritingFetch, until } from './helpers/idp.js';

let idp: TestIdp;
const made: Introspector[] = [];

function introspector(options: Partial<IntrospectorOptions> = {}): Introspector {
  const i = createIntrospector({
    url: idp.introspectionEndpoint,
    clientId: idp.clients.introspector.clientId,
    clientSecret: idp.clients.introspector.clientSecret,
    issuer: idp.issuer,
    audience: idp.opaqueResource,
    ...options,
  });
  made.push(i);
  return i;
}

/** A real opaque access token of `sub` (default `bob`). */
function opaque(sub = 'bob', extra: { scope?: string; ttlSeconds?: number } = {}): Promise<string> {
  return idp.issueAccessToken({ sub, resource: idp.opaqueResource, ...extra });
}

beforeAll(async () => {
  idp = await startTestIdp();
});

afterEach(async () => {
  idp.setFault('introspection', null);
  await idp.start();
  for (const i of made.splice(0)) i.close();
});

afterAll(async () => {
  await idp.close();
});

describe('createIntrospector (real opaque tokens)', () => {
  it('accepts an active token and keeps every claim the IdP returned', async () => {
    const token = await opaque('bob', { scope: 'mcp:read mcp:write' });
    expect(looksLikeJwt(token)).toBe(false);
    const claims = await introspector().introspect(token);
    expect(claims).toMatchObject({
      sub: 'bob',
      iss: idp.issuer,
      aud: idp.opaqueResource,
      client_id: idp.clients.cli.clientId,
      scope: 'mcp:read mcp:write',
      email: 'bob@example.test',
      groups: ['sales'],
      realm_access: { roles: ['mcp-user'] },
    });
    expect(typeof claims.exp).toBe('number');
    expect(claims).not.toHaveProperty('active');
    expect(Object.isFrozen(claims)).toBe(true);
  });

  it('authenticates with client_secret_basic and sends the RFC 7662 form', async () => {
    const token = await opaque();
    await introspector().introspect(token);
    const call = lastRequest(idp, 'introspection');
    expect(call.clientAuthMethod).toBe('client_secret_basic');
    expect(call.clientId).toBe(idp.clients.introspector.clientId);
    expect(call.params).toEqual({ token, token_type_hint: 'access_token' });
  });

  it('form-urlencodes Basic credentials (RFC 6749 §2.3.1) and fails closed when the IdP refuses the client', async () => {
    const err = await introspector({ clientId: 'proxy client', clientSecret: 's3cr:et' })
      .introspect(await opaque())
      .catch((e: unknown) => e);
    // oidc-provider answers 401 invalid_client: validity cannot be decided, so 503-class, never accepted.
    expect(err).toBeInstanceOf(AuthUnavailableError);
    expect((err as AuthUnavailableError).code).toBe(AuthErrorCode.IntrospectionUnavailable);
    const call = lastRequest(idp, 'introspection');
    const decoded = Buffer.from((call.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
    expect(decoded).toBe('proxy+client:s3cr%3Aet');
  });

  it('authenticates with client_secret_post', async () => {
    const client = idp.clients.exchangerPost;
    const token = await opaque();
    const claims = await introspector({
      authMethod: 'client_secret_post',
      clientId: client.clientId,
      clientSecret: client.clientSecret,
    }).introspect(token);
    expect(claims.sub).toBe('bob');
    const call = lastRequest(idp, 'introspection');
    expect(call.authorization).toBeUndefined();
    expect(call.clientAuthMethod).toBe('client_secret_post');
    expect(call.params).toMatchObject({ client_id: client.clientId, client_secret: client.clientSecret });
  });

  it('rejects a revoked token, a token the IdP never issued and an answer without a boolean active', async () => {
    const revoked = await opaque('carol');
    await expect(introspector().introspect(revoked)).resolves.toMatchObject({ sub: 'carol' });
    expect(await idp.revokeGrants({ sub: 'carol' })).toBe(1);
    const i = introspector();
    for (const token of [revoked, 'never-issued-by-this-idp']) {
      const err = await i.introspect(token).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TokenRejectedError);
      expect((err as TokenRejectedError).code).toBe(AuthErrorCode.TokenInactive);
    }
    // `{}`: a 200 JSON answer without `active` is a refusal, not an acceptance.
    idp.setFault('introspection', 'empty-json');
    const empty = await i.introspect(await opaque()).catch((e: unknown) => e);
    expect((empty as TokenRejectedError).code).toBe(AuthErrorCode.TokenInactive);
    // `active: "true"` (a string) is not the boolean RFC 7662 requires.
    idp.setFault('introspection', null);
    const stringly = introspector({ fetch: rewritingFetch({ active: 'true' }) });
    const err = await stringly.introspect(await opaque()).catch((e: unknown) => e);
    expect((err as TokenRejectedError).code).toBe(AuthErrorCode.TokenInactive);
  });

  it('rejects an active answer without exp unless requireExp is false', async () => {
    // oidc-provider always returns exp; the answer of the real IdP is stripped of it on the way in.
    const fetch = rewritingFetch({ exp: undefined });
    const token = await opaque();
    const err = await introspector({ fetch })
      .introspect(token)
      .catch((e: unknown) => e);
    expect((err as TokenRejectedError).code).toBe(AuthErrorCode.InvalidClaim);
    expect((err as TokenRejectedError).claim).toBe('exp');
    await expect(introspector({ fetch, requireExp: false }).introspect(token)).resolves.toMatchObject({
      sub: 'bob',
    });
  });

  it('rejects an expired token, a foreign issuer and a foreign audience', async () => {
    const token = await opaque('bob', { ttlSeconds: 600 });
    // The IdP still says active; the proxy's clock is past exp (and the tolerance).
    const late = introspector({ now: () => Date.now() + 3_600_000 });
    expect(await late.introspect(token).catch((e: TokenRejectedError) => e.code)).toBe(
      AuthErrorCode.TokenExpired,
    );
    expect(
      await introspector({ issuer: 'https://evil.test' })
        .introspect(token)
        .catch((e: TokenRejectedError) => e.code),
    ).toBe(AuthErrorCode.IssuerMismatch);
    expect(
      await introspector({ audience: 'https://other.test/mcp' })
        .introspect(token)
        .catch((e: TokenRejectedError) => e.code),
    ).toBe(AuthErrorCode.AudienceMismatch);
  });

  it('caches an active result (one IdP hit for repeated use)', async () => {
    const token = await opaque();
    const i = introspector();
    const before = idp.hits.introspection;
    for (let n = 0; n < 5; n++) await i.introspect(token);
    expect(idp.hits.introspection - before).toBe(1);
    expect(i.cacheSize).toBe(1);
  });

  it('bounds the cache TTL by exp and by cacheMaxTtlMs', async () => {
    let t = Date.now();
    const token = await opaque();
    const i = introspector({ cacheMaxTtlMs: 60_000, now: () => t });
    const before = idp.hits.introspection;
    await i.introspect(token);
    t += 59_000;
    await i.introspect(token);
    expect(idp.hits.introspection - before).toBe(1);
    t += 2_000;
    await i.introspect(token);
    expect(idp.hits.introspection - before).toBe(2);

    // exp sooner than the max TTL: the entry lives only until exp (then the token is refused).
    const short = await opaque('bob', { ttlSeconds: 10 });
    t = Date.now();
    const strict = introspector({ cacheMaxTtlMs: 60_000, clockToleranceMs: 0, now: () => t });
    const { exp } = await strict.introspect(short);
    expect(typeof exp).toBe('number');
    t = (exp as number) * 1000 + 1;
    expect(await strict.introspect(short).catch((e: TokenRejectedError) => e.code)).toBe(
      AuthErrorCode.TokenExpired,
    );
  });

  it('caches refusals briefly', async () => {
    let t = Date.now();
    const i = introspector({ negativeCacheTtlMs: 10_000, now: () => t });
    const before = idp.hits.introspection;
    await expect(i.introspect('not-a-token-of-this-idp')).rejects.toBeInstanceOf(TokenRejectedError);
    await expect(i.introspect('not-a-token-of-this-idp')).rejects.toBeInstanceOf(TokenRejectedError);
    expect(idp.hits.introspection - before).toBe(1);
    t += 10_001;
    await expect(i.introspect('not-a-token-of-this-idp')).rejects.toBeInstanceOf(TokenRejectedError);
    expect(idp.hits.introspection - before).toBe(2);
  });

  it('shares one call between concurrent identical tokens (single-flight)', async () => {
    const token = await opaque();
    const i = introspector();
    const before = idp.hits.introspection;
    // The IdP holds every introspection request until the fault is cleared.
    idp.setFault('introspection', 'slow');
    const pending = Promise.all(Array.from({ length: 20 }, () => i.introspect(token)));
    await until(() => idp.hits.introspection > before);
    idp.setFault('introspection', null);
    const results = await pending;
    expect(results.every((c) => c.sub === 'bob')).toBe(true);
    expect(idp.hits.introspection - before).toBe(1);
  });

  it('fails closed (503-class) when the endpoint errors, hangs up or is stopped, and never caches that', async () => {
    const token = await opaque();
    const i = introspector({ retryAfterSeconds: 7, timeoutMs: 2_000 });
    const expectUnavailable = async (
      code: AuthErrorCode = AuthErrorCode.IntrospectionUnavailable,
    ): Promise<void> => {
      const err = await i.introspect(token).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthUnavailableError);
      expect((err as AuthUnavailableError).code).toBe(code);
      expect((err as AuthUnavailableError).retryAfterSeconds).toBe(7);
    };
    for (const fault of ['500', '503', 'reset'] as const) {
      idp.setFault('introspection', fault);
      await expectUnavailable();
    }
    // A 200 whose body is not JSON: still undecidable, so 503-class.
    idp.setFault('introspection', 'malformed');
    await expectUnavailable(AuthErrorCode.IdpResponseInvalid);
    idp.setFault('introspection', null);
    await idp.stop();
    await expectUnavailable();
    await idp.start();
    await expect(i.introspect(token)).resolves.toMatchObject({ sub: 'bob' });

    const port = await freePort();
    const unreachable = introspector({ url: `http://127.0.0.1:${port}/introspect` });
    await expect(unreachable.introspect(token)).rejects.toBeInstanceOf(AuthUnavailableError);
  });

  it('never puts the token or the secret in errors', async () => {
    const token = await opaque();
    idp.setFault('introspection', '500');
    const err = (await introspector()
      .introspect(token)
      .catch((e: unknown) => e)) as Error;
    const text = `${err.message} ${JSON.stringify(err)} ${String(err.stack)} ${String(err.cause)}`;
    expect(text).not.toContain(token);
    expect(text).not.toContain(idp.clients.introspector.clientSecret as string);
  });

  it('validates its options', () => {
    expect(() => createIntrospector({ url: idp.introspectionEndpoint, clientId: 'a' })).toThrow(
      /"clientSecret"/,
    );
    expect(() => createIntrospector({ url: 'https://x/i', authMethod: 'none', cacheMaxTtlMs: -1 })).toThrow(
      /"cacheMaxTtlMs"/,
    );
    expect(() => createIntrospector({ url: 'https://x/i', authMethod: 'bogus' as 'none' })).toThrow(
      /"authMethod"/,
    );
  });
});

describe('the authenticator over introspection', () => {
  it('reuses the identity of a cached result, and never hands it to another token', async () => {
    const auth = createTokenAuthenticator({
      issuer: idp.issuer,
      audience: idp.opaqueResource,
      jwt: false,
      introspection: {
        url: idp.introspectionEndpoint,
        clientId: idp.clients.introspector.clientId,
        clientSecret: idp.clients.introspector.clientSecret,
      },
    });
    try {
      const bob = await opaque('bob');
      const alice = await opaque('alice');
      const first = await auth.authenticate(bob);
      expect(first).toMatchObject({ subject: 'bob', groups: ['sales'], tokenKind: 'opaque' });
      expect(Object.isFrozen(first)).toBe(true);
      expect(await auth.authenticate(bob)).toBe(first);
      const other = await auth.authenticate(alice);
      expect(other).not.toBe(first);
      expect(other.subject).toBe('alice');
      // Opaque tokens never come from the JWT cache.
      expect(auth.cachedIdentity(bob)).toBeUndefined();
      // A new introspection result is a new identity (same content).
      auth.introspector?.clear();
      const again = await auth.authenticate(bob);
      expect(again).not.toBe(first);
      expect(again).toEqual(first);
    } finally {
      auth.close();
    }
  });
});
