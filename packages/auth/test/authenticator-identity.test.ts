/**
 * The token authenticator reuses the identity of a verified (cached) JWT instead of rebuilding it on
 * every request. Real RS256 tokens and a real JWKS served over HTTP on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createTokenAuthenticator, type TokenAuthenticator } from '../src/index.js';

const AUDIENCE = 'https://mcp.example.test/mcp';
let server: Server;
let issuer: string;
let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
const authenticators: TokenAuthenticator[] = [];

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.url === '/jwks' ? { keys: [jwk] } : {}));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const a of authenticators) a.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function mint(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer(issuer)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey);
}

function authenticator(jwt: { cacheTtlMs?: number } = {}): TokenAuthenticator {
  const a = createTokenAuthenticator({ issuer, audience: AUDIENCE, jwksUrl: `${issuer}/jwks`, jwt });
  authenticators.push(a);
  return a;
}

describe('TokenAuthenticator identities', () => {
  it('returns the same frozen identity for the same cached token, and another for another token', async () => {
    const auth = authenticator();
    const alice = await mint({ sub: 'alice', groups: ['eng'] });
    const bob = await mint({ sub: 'bob', groups: ['sales'] });
    const first = await auth.authenticate(alice);
    const second = await auth.authenticate(alice);
    expect(second).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(first).toMatchObject({ subject: 'alice', groups: ['eng'], tokenKind: 'jwt' });
    const other = await auth.authenticate(bob);
    expect(other).not.toBe(first);
    expect(other).toMatchObject({ subject: 'bob', groups: ['sales'] });
  });

  it('still builds a correct identity on every call when the verified-token cache is off', async () => {
    const auth = authenticator({ cacheTtlMs: 0 });
    const token = await mint({ sub: 'carol', roles: ['admin'] });
    const a = await auth.authenticate(token);
    const b = await auth.authenticate(token);
    expect(b).toEqual(a);
    expect(b).toMatchObject({ subject: 'carol', roles: ['admin'] });
  });

  it('rejects a token without a user id every time (a failure is never remembered as an identity)', async () => {
    const auth = authenticator();
    const token = await mint({ groups: ['eng'] });
    await expect(auth.authenticate(token)).rejects.toMatchObject({
      code: 'ERR_BASTION_AUTH_MISSING_USER_ID',
    });
    await expect(auth.authenticate(token)).rejects.toMatchObject({
      code: 'ERR_BASTION_AUTH_MISSING_USER_ID',
    });
  });
});

describe('TokenAuthenticator.cachedIdentity', () => {
  it('knows only tokens verified earlier, and gives what authenticate gives', async () => {
    const auth = authenticator();
    const alice = await mint({ sub: 'alice', groups: ['eng'] });
    expect(auth.cachedIdentity(alice)).toBeUndefined();
    const identity = await auth.authenticate(alice);
    expect(auth.cachedIdentity(alice)).toBe(identity);
    expect(await auth.authenticate(alice)).toBe(identity);
    // Another signature on the same header and payload is another token, verified on its own.
    const [head, body, signature] = alice.split('.') as [string, string, string];
    const forged = `${head}.${body}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    expect(auth.cachedIdentity(forged)).toBeUndefined();
    await expect(auth.authenticate(forged)).rejects.toMatchObject({
      code: 'ERR_BASTION_AUTH_SIGNATURE_INVALID',
    });
    expect(auth.cachedIdentity(forged)).toBeUndefined();
    expect(auth.cachedIdentity('opaque-token')).toBeUndefined();
    expect(auth.cachedIdentity('')).toBeUndefined();
  });

  it('remembers nothing when the verified-token cache is off', async () => {
    const auth = authenticator({ cacheTtlMs: 0 });
    const token = await mint({ sub: 'dan' });
    await auth.authenticate(token);
    expect(auth.cachedIdentity(token)).toBeUndefined();
  });

  it('never serves a token past its exp, however long the cache would keep it', async () => {
    let clock = Date.now();
    const auth = createTokenAuthenticator({
      issuer,
      audience: AUDIENCE,
      jwksUrl: `${issuer}/jwks`,
      jwt: { cacheTtlMs: 3_600_000 },
      clockToleranceMs: 0,
      now: () => clock,
    });
    authenticators.push(auth);
    const token = await new SignJWT({ sub: 'erin' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(issuer)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(Math.floor(clock / 1000) + 60)
      .sign(privateKey);
    const identity = await auth.authenticate(token);
    clock += 30_000;
    expect(auth.cachedIdentity(token)).toBe(identity);
    clock += 31_000;
    expect(auth.cachedIdentity(token)).toBeUndefined();
    await expect(auth.authenticate(token)).rejects.toMatchObject({ code: 'ERR_BASTION_AUTH_TOKEN_EXPIRED' });
  });

  it('throws for a remembered token without a user id, like authenticate, every time', async () => {
    const auth = authenticator();
    const token = await mint({ groups: ['eng'] });
    await expect(auth.authenticate(token)).rejects.toMatchObject({
      code: 'ERR_BASTION_AUTH_MISSING_USER_ID',
    });
    let thrown: unknown;
    try {
      auth.cachedIdentity(token);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ code: 'ERR_BASTION_AUTH_MISSING_USER_ID' });
  });
});
