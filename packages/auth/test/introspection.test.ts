import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort } from '@bastion-mcp/testkit';
import {
  AuthErrorCode,
  AuthUnavailableError,
  createIntrospector,
  type Introspector,
  type IntrospectorOptions,
  TokenRejectedError,
} from '../src/index.js';
import { type LocalIssuer, startLocalIssuer } from './helpers/local-issuer.js';

const AUD = 'https://proxy.test/mcp';
let idp: LocalIssuer;
const made: Introspector[] = [];
const future = (): number => Math.floor(Date.now() / 1000) + 3600;

function introspector(options: Partial<IntrospectorOptions> = {}): Introspector {
  const i = createIntrospector({
    url: idp.introspectionEndpoint,
    clientId: 'proxy client',
    clientSecret: 's3cr:et',
    issuer: idp.issuer,
    audience: AUD,
    ...options,
  });
  made.push(i);
  return i;
}

beforeAll(async () => {
  idp = await startLocalIssuer();
});

afterEach(() => {
  idp.introspectionMode = 'ok';
  idp.introspectionGate = undefined;
  for (const i of made.splice(0)) i.close();
});

afterAll(async () => {
  await idp.close();
});

describe('createIntrospector', () => {
  it('accepts an active token and keeps every returned claim', async () => {
    idp.setIntrospection('opaque-1', {
      active: true,
      sub: 'u2',
      iss: idp.issuer,
      aud: AUD,
      exp: future(),
      email: 'u2@x.test',
      groups: ['eng'],
      client_id: 'app',
      scope: 'mcp:read',
    });
    const claims = await introspector().introspect('opaque-1');
    expect(claims).toMatchObject({ sub: 'u2', email: 'u2@x.test', groups: ['eng'], client_id: 'app' });
    expect(claims).not.toHaveProperty('active');
  });

  it('sends the RFC 7662 form with client_secret_basic (form-urlencoded credentials)', async () => {
    idp.setIntrospection('opaque-basic', { active: true, sub: 'u', exp: future() });
    const before = idp.introspectionCalls.length;
    await introspector().introspect('opaque-basic');
    const call = idp.introspectionCalls[before];
    expect(call?.form.get('token')).toBe('opaque-basic');
    expect(call?.form.get('token_type_hint')).toBe('access_token');
    expect(call?.form.has('client_secret')).toBe(false);
    const decoded = Buffer.from((call?.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
    expect(decoded).toBe('proxy+client:s3cr%3Aet');
  });

  it('sends the credentials in the form with client_secret_post', async () => {
    idp.setIntrospection('opaque-post', { active: true, sub: 'u', exp: future() });
    const before = idp.introspectionCalls.length;
    await introspector({ authMethod: 'client_secret_post' }).introspect('opaque-post');
    const call = idp.introspectionCalls[before];
    expect(call?.authorization).toBeUndefined();
    expect(call?.form.get('client_id')).toBe('proxy client');
    expect(call?.form.get('client_secret')).toBe('s3cr:et');
  });

  it('rejects an inactive token and a response without a boolean active', async () => {
    idp.setIntrospection('inactive', { active: false });
    idp.setIntrospection('stringly', { active: 'true', sub: 'u', exp: future() });
    const i = introspector();
    for (const t of ['inactive', 'stringly', 'never-issued']) {
      const err = await i.introspect(t).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TokenRejectedError);
      expect((err as TokenRejectedError).code).toBe(AuthErrorCode.TokenInactive);
    }
  });

  it('rejects an active result without exp unless requireExp is false', async () => {
    idp.setIntrospection('no-exp', { active: true, sub: 'u' });
    const err = await introspector()
      .introspect('no-exp')
      .catch((e: unknown) => e);
    expect((err as TokenRejectedError).code).toBe(AuthErrorCode.InvalidClaim);
    expect((err as TokenRejectedError).claim).toBe('exp');
    await expect(introspector({ requireExp: false }).introspect('no-exp')).resolves.toMatchObject({
      sub: 'u',
    });
  });

  it('rejects an expired result, a foreign issuer and a foreign audience', async () => {
    idp.setIntrospection('expired', { active: true, sub: 'u', exp: Math.floor(Date.now() / 1000) - 120 });
    idp.setIntrospection('foreign-iss', { active: true, sub: 'u', exp: future(), iss: 'https://evil.test' });
    idp.setIntrospection('foreign-aud', { active: true, sub: 'u', exp: future(), aud: ['other'] });
    const i = introspector();
    expect(await i.introspect('expired').catch((e: TokenRejectedError) => e.code)).toBe(
      AuthErrorCode.TokenExpired,
    );
    expect(await i.introspect('foreign-iss').catch((e: TokenRejectedError) => e.code)).toBe(
      AuthErrorCode.IssuerMismatch,
    );
    expect(await i.introspect('foreign-aud').catch((e: TokenRejectedError) => e.code)).toBe(
      AuthErrorCode.AudienceMismatch,
    );
  });

  it('caches an active result (one IdP hit for repeated use)', async () => {
    idp.setIntrospection('cached', { active: true, sub: 'u', exp: future() });
    const i = introspector();
    const before = idp.hits.introspection;
    for (let n = 0; n < 5; n++) await i.introspect('cached');
    expect(idp.hits.introspection - before).toBe(1);
  });

  it('bounds the cache TTL by exp and by cacheMaxTtlMs', async () => {
    let t = Date.now();
    const exp = Math.floor(t / 1000) + 3600;
    idp.setIntrospection('ttl', { active: true, sub: 'u', exp });
    const i = introspector({ cacheMaxTtlMs: 60_000, now: () => t });
    const before = idp.hits.introspection;
    await i.introspect('ttl');
    t += 59_000;
    await i.introspect('ttl');
    expect(idp.hits.introspection - before).toBe(1);
    t += 2_000;
    await i.introspect('ttl');
    expect(idp.hits.introspection - before).toBe(2);

    // exp sooner than the max TTL: the entry lives only until exp (then the token is refused).
    const shortExp = Math.floor(t / 1000) + 10;
    idp.setIntrospection('short', { active: true, sub: 'u', exp: shortExp });
    const strict = introspector({ cacheMaxTtlMs: 60_000, clockToleranceMs: 0, now: () => t });
    await strict.introspect('short');
    t = shortExp * 1000 + 1;
    expect(await strict.introspect('short').catch((e: TokenRejectedError) => e.code)).toBe(
      AuthErrorCode.TokenExpired,
    );
  });

  it('caches refusals briefly', async () => {
    let t = Date.now();
    idp.setIntrospection('neg', { active: false });
    const i = introspector({ negativeCacheTtlMs: 10_000, now: () => t });
    const before = idp.hits.introspection;
    await expect(i.introspect('neg')).rejects.toBeInstanceOf(TokenRejectedError);
    await expect(i.introspect('neg')).rejects.toBeInstanceOf(TokenRejectedError);
    expect(idp.hits.introspection - before).toBe(1);
    t += 10_001;
    await expect(i.introspect('neg')).rejects.toBeInstanceOf(TokenRejectedError);
    expect(idp.hits.introspection - before).toBe(2);
  });

  it('shares one call between concurrent identical tokens (single-flight)', async () => {
    idp.setIntrospection('sf', { active: true, sub: 'u', exp: future() });
    let release: () => void = () => {};
    idp.introspectionGate = new Promise<void>((r) => {
      release = r;
    });
    const i = introspector();
    const before = idp.hits.introspection;
    const pending = Promise.all(Array.from({ length: 20 }, () => i.introspect('sf')));
    await new Promise((r) => setTimeout(r, 50));
    release();
    const results = await pending;
    expect(results.every((c) => c.sub === 'u')).toBe(true);
    expect(idp.hits.introspection - before).toBe(1);
  });

  it('fails closed (503-class) when the endpoint errors, hangs up or is unreachable, and never caches that', async () => {
    idp.setIntrospection('down', { active: true, sub: 'u', exp: future() });
    const i = introspector({ retryAfterSeconds: 7 });
    for (const mode of ['error500', 'hangup'] as const) {
      idp.introspectionMode = mode;
      const err = await i.introspect('down').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthUnavailableError);
      expect((err as AuthUnavailableError).code).toBe(AuthErrorCode.IntrospectionUnavailable);
      expect((err as AuthUnavailableError).retryAfterSeconds).toBe(7);
    }
    idp.introspectionMode = 'ok';
    await expect(i.introspect('down')).resolves.toMatchObject({ sub: 'u' });

    const port = await freePort();
    const unreachable = introspector({ url: `http://127.0.0.1:${port}/introspect` });
    await expect(unreachable.introspect('down')).rejects.toBeInstanceOf(AuthUnavailableError);
  });

  it('never puts the token or the secret in errors', async () => {
    idp.introspectionMode = 'error500';
    const err = (await introspector()
      .introspect('super-secret-token')
      .catch((e: unknown) => e)) as Error;
    const text = `${err.message} ${JSON.stringify(err)} ${String(err.stack)}`;
    expect(text).not.toContain('super-secret-token');
    expect(text).not.toContain('s3cr:et');
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
