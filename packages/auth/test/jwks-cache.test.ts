import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort, type MintOptions, startTokenMinter, type TokenMinter } from '@bastion-mcp/testkit';
import {
  AuthErrorCode,
  AuthUnavailableError,
  createJwtVerifier,
  JwksCache,
  TokenRejectedError,
} from '../src/index.js';

/**
 * The key source is the testkit token minter: a real HTTP JWKS server (four key families) that can
 * rotate its keys, be stopped and restarted on the same port, and count the documents it served.
 * A controllable clock drives the cache's timers instead of waiting.
 */
const AUD = 'https://proxy.test/mcp';
let idp: TokenMinter;

function mint(claims: Record<string, unknown>, options: Omit<MintOptions, 'claims'> = {}): Promise<string> {
  return idp.mint({ ...options, claims: { aud: AUD, ...claims } });
}
const caches: JwksCache[] = [];

function cache(options: Partial<ConstructorParameters<typeof JwksCache>[0]> = {}): JwksCache {
  const c = new JwksCache({ jwksUrl: idp.jwksUri, ...options });
  caches.push(c);
  return c;
}

/** A controllable clock (epoch ms). */
function clock(start = Date.now()): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

beforeAll(async () => {
  idp = await startTokenMinter();
});

afterEach(async () => {
  // startJwks() is a no-op when the server already runs.
  await idp.startJwks();
  idp.setJwksFault(null);
  for (const c of caches.splice(0)) c.close();
});

afterAll(async () => {
  await idp.close();
});

describe('JwksCache', () => {
  it('fetches once and serves every later lookup from the cache', async () => {
    const c = cache();
    const verifier = createJwtVerifier({ issuer: idp.issuer, audience: AUD, keys: c, cacheTtlMs: 0 });
    const before = idp.jwksHits;
    for (let i = 0; i < 5; i++) await verifier.verify(await mint({ sub: `u${i}` }));
    expect(idp.jwksHits - before).toBe(1);
    expect(c.status()).toMatchObject({ loaded: true, keyCount: 4, fetches: 1 });
  });

  it('shares one fetch between concurrent first requests', async () => {
    const c = cache();
    const verifier = createJwtVerifier({ issuer: idp.issuer, audience: AUD, keys: c, cacheTtlMs: 0 });
    const token = await mint({ sub: 'u1' });
    const before = idp.jwksHits;
    await Promise.all(Array.from({ length: 20 }, () => verifier.verify(token)));
    expect(idp.jwksHits - before).toBe(1);
  });

  it('picks up keys rotated at the IdP with one refetch, without restart', async () => {
    const t = clock();
    const c = cache({ cooldownMs: 30_000, now: t.now });
    const verifier = createJwtVerifier({ issuer: idp.issuer, audience: AUD, keys: c, cacheTtlMs: 0 });
    await verifier.verify(await mint({ sub: 'u1' }));
    idp.rotate();
    t.advance(31_000);
    const before = idp.jwksHits;
    const { payload } = await verifier.verify(await mint({ sub: 'after-rotation' }));
    expect(payload.sub).toBe('after-rotation');
    expect(idp.jwksHits - before).toBe(1);
  });

  it('rate-limits refetches caused by unknown kids (one per cooldown)', async () => {
    const t = clock();
    const c = cache({ cooldownMs: 30_000, now: t.now });
    const verifier = createJwtVerifier({ issuer: idp.issuer, audience: AUD, keys: c, cacheTtlMs: 0 });
    await verifier.verify(await mint({ sub: 'u1' }));
    t.advance(31_000);
    const before = idp.jwksHits;
    const forged = await Promise.all(
      Array.from({ length: 25 }, (_, i) => mint({ sub: 'x' }, { kid: `forged-${i}` })),
    );
    const results = await Promise.allSettled(forged.map((f) => verifier.verify(f)));
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(TokenRejectedError);
      expect(((r as PromiseRejectedResult).reason as TokenRejectedError).code).toBe(
        AuthErrorCode.UnknownSigningKey,
      );
    }
    // More forged kids inside the cooldown: no further fetch.
    for (let i = 0; i < 10; i++) await expect(verifier.verify(forged[i] as string)).rejects.toThrow();
    expect(idp.jwksHits - before).toBe(1);
  });

  it('keeps serving cached keys when the JWKS endpoint goes down after warm-up, and reports it', async () => {
    const t = clock();
    const c = cache({ refreshIntervalMs: 60_000, cooldownMs: 1_000, errorRetryMs: 1_000, now: t.now });
    const verifier = createJwtVerifier({ issuer: idp.issuer, audience: AUD, keys: c, cacheTtlMs: 0 });
    await c.refresh();
    expect(c.readiness()).toEqual({ ready: true, detail: 'JWKS: 4 key(s)' });
    await idp.stopJwks();
    t.advance(120_000); // stale: the next lookups try a background refresh, which fails
    await verifier.verify(await mint({ sub: 'u1' }));
    await expect(c.refresh()).rejects.toBeInstanceOf(AuthUnavailableError);
    const { payload } = await verifier.verify(await mint({ sub: 'still-works' }));
    expect(payload.sub).toBe('still-works');
    const ready = c.readiness();
    expect(ready.ready).toBe(true);
    expect(ready.detail).toMatch(/JWKS refresh failing since .*serving 4 cached key\(s\)/);
    // An unknown kid while the endpoint is down is refused (401), never accepted.
    t.advance(2_000);
    await expect(verifier.verify(await mint({ sub: 'x' }, { kid: 'k9' }))).rejects.toMatchObject({
      code: AuthErrorCode.UnknownSigningKey,
    });
    await idp.startJwks();
    t.advance(2_000);
    await c.refresh();
    expect(c.readiness()).toEqual({ ready: true, detail: 'JWKS: 4 key(s)' });
  });

  it.each(['500', 'malformed', 'empty-json', 'reset'] as const)(
    'keeps the cached keys when a refresh gets a %s answer',
    async (fault) => {
      const t = clock();
      const c = cache({ refreshIntervalMs: 60_000, cooldownMs: 1_000, errorRetryMs: 1_000, now: t.now });
      const verifier = createJwtVerifier({ issuer: idp.issuer, audience: AUD, keys: c, cacheTtlMs: 0 });
      await c.refresh();
      idp.setJwksFault(fault);
      t.advance(120_000);
      await expect(c.refresh()).rejects.toBeInstanceOf(AuthUnavailableError);
      const { payload } = await verifier.verify(await mint({ sub: 'cached-keys' }));
      expect(payload.sub).toBe('cached-keys');
      expect(c.readiness()).toMatchObject({ ready: true });
      expect(c.status().keyCount).toBe(4);
    },
  );

  it('fails closed with 503-class errors when no key set was ever fetched', async () => {
    const port = await freePort();
    const c = cache({ jwksUrl: `http://127.0.0.1:${port}/jwks`, timeoutMs: 2_000 });
    const verifier = createJwtVerifier({ issuer: idp.issuer, audience: AUD, keys: c });
    const err = await verifier.verify(await mint({ sub: 'u1' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthUnavailableError);
    expect((err as AuthUnavailableError).code).toBe(AuthErrorCode.JwksUnavailable);
    expect(c.readiness()).toEqual({
      ready: false,
      detail: 'JWKS fetch failing (ERR_BASTION_AUTH_JWKS_UNAVAILABLE)',
    });
  });

  it('reports not-ready before the first fetch', () => {
    const c = cache();
    expect(c.readiness().ready).toBe(false);
  });

  it('refreshes in the background once the key set is older than refreshIntervalMs', async () => {
    const t = clock();
    const c = cache({ refreshIntervalMs: 60_000, now: t.now });
    await c.refresh();
    const before = c.status().fetches;
    c.readiness();
    expect(c.status().fetches).toBe(before);
    t.advance(61_000);
    c.readiness();
    expect(c.status().fetches).toBe(before + 1);
    await c.refresh();
  });

  it('ignores private and symmetric keys published in the JWKS', async () => {
    const { createServer } = await import('node:http');
    const { generateKeyPair, exportJWK } = await import('jose');
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const priv = { ...(await exportJWK(privateKey)), kid: 'p' };
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [priv, { kty: 'oct', k: 'c2VjcmV0', kid: 'h' }] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as { port: number };
      const c = cache({ jwksUrl: `http://127.0.0.1:${port}/` });
      await c.refresh();
      expect(c.status().keyCount).toBe(0);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('validates its options', () => {
    expect(() => new JwksCache({ jwksUrl: 'ftp://x/jwks' })).toThrow(/"jwksUrl"/);
    expect(() => new JwksCache({ jwksUrl: 'http://idp.example.com/jwks' })).toThrow(/https/);
    expect(
      () => new JwksCache({ jwksUrl: 'http://idp.example.com/jwks', allowInsecureHttp: true }),
    ).not.toThrow();
    expect(() => new JwksCache({ jwksUrl: idp.jwksUri, cooldownMs: -1 })).toThrow(/"cooldownMs"/);
  });
});
