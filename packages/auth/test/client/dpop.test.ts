import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createDPoPProver,
  detectRemoteAuth,
  type DPoPMode,
  dpopAth,
  isUseDPoPNonceChallenge,
  loginWithAuthorizationCode,
  loginWithClientCredentials,
  loginWithDeviceCode,
  OAuthClientErrorCode,
  OAuthSession,
  type RemoteAuthRequirement,
  shouldUseDPoP,
  type StoredDPoPKey,
  type TokenStore,
} from '@bastion-mcp/auth/client';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, EmbeddedJWK, jwtVerify } from 'jose';
import { type DPoPWorld, startDPoPWorld } from './helpers/dpop-world.js';

interface PeekedGrant {
  tokens?: { accessToken: string; tokenType: string; refreshToken?: string; expiresAt?: number };
  dpop?: StoredDPoPKey;
}

async function peek(store: TokenStore, name: string): Promise<PeekedGrant> {
  return ((await store.get(`tokens:${name}`)) ?? {}) as PeekedGrant;
}

async function expire(store: TokenStore, name: string): Promise<void> {
  const grant = (await store.get(`tokens:${name}`)) as { tokens: { expiresAt?: number } };
  grant.tokens.expiresAt = Date.now() - 1_000;
  await store.set(`tokens:${name}`, grant);
}

async function detect(w: DPoPWorld): Promise<RemoteAuthRequirement> {
  const detected = await detectRemoteAuth(w.up.url);
  if (!detected.required) throw new Error('the upstream should require OAuth');
  return detected;
}

function login(
  w: DPoPWorld,
  auth: RemoteAuthRequirement,
  name: string,
  extra: { dpop?: DPoPMode; fetch?: typeof fetch; dropDpopJkt?: boolean } = {},
): Promise<{ result: Awaited<ReturnType<typeof loginWithAuthorizationCode>>; authorizeUrl: URL }> {
  let authorizeUrl: URL | undefined;
  return loginWithAuthorizationCode({
    name,
    store: w.store,
    auth,
    client: { clientId: w.idp.clients.cli.clientId },
    callbackPort: 0,
    dpop: extra.dpop,
    fetch: extra.fetch,
    onAuthorizationUrl: async (url) => {
      authorizeUrl = new URL(url);
      const sent = new URL(url);
      if (extra.dropDpopJkt) sent.searchParams.delete('dpop_jkt');
      await w.idp.authorize(sent, { username: 'alice', deliver: true });
    },
  }).then((result) => ({ result, authorizeUrl: authorizeUrl! }));
}

/** POST initialize to the upstream with a DPoP-bound token and the given proof. */
function postInitialize(w: DPoPWorld, token: string, proof: string): Promise<Response> {
  return fetch(w.up.url, {
    method: 'POST',
    headers: {
      authorization: `DPoP ${token}`,
      dpop: proof,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    }),
  });
}

function tokenRequests(w: DPoPWorld, grantType: string): number {
  return w.idp.requests.filter((r) => r.grantType === grantType).length;
}

describe('shouldUseDPoP', () => {
  const base = {
    required: true,
    serverUrl: 'https://mcp.example.com/mcp',
    resource: 'https://mcp.example.com/mcp',
    resourceMetadataUrl: undefined,
    resourceMetadata: { resource: 'https://mcp.example.com/mcp', authorization_servers: ['https://as'] },
    authorizationServer: {
      issuer: 'https://as',
      token_endpoint: 'https://as/token',
      dpop_signing_alg_values_supported: ['ES256', 'EdDSA'],
    },
    discovery: 'prm',
    challenge: undefined,
    challengeSchemes: ['dpop', 'bearer'],
    scopes: undefined,
  } as RemoteAuthRequirement;

  it('auto uses DPoP when the AS advertises ES256 and the MCP server challenges with DPoP', () => {
    expect(shouldUseDPoP('auto', base)).toBe(true);
  });

  it('auto keeps Bearer when only the AS supports DPoP (a Bearer-only MCP server)', () => {
    expect(shouldUseDPoP('auto', { ...base, challengeSchemes: ['bearer'] })).toBe(false);
  });

  it('auto follows the protected-resource metadata DPoP members', () => {
    const prm = { ...base.resourceMetadata, dpop_signing_alg_values_supported: ['ES256'] };
    expect(shouldUseDPoP('auto', { ...base, challengeSchemes: [], resourceMetadata: prm })).toBe(true);
    const required = { ...base.resourceMetadata, dpop_bound_access_tokens_required: true };
    const silentAs = { ...base.authorizationServer, dpop_signing_alg_values_supported: undefined };
    expect(
      shouldUseDPoP('auto', {
        ...base,
        challengeSchemes: [],
        resourceMetadata: required,
        authorizationServer: silentAs,
      }),
    ).toBe(true);
  });

  it('auto keeps Bearer when the AS does not advertise DPoP or lacks ES256', () => {
    const silentAs = { ...base.authorizationServer, dpop_signing_alg_values_supported: undefined };
    expect(shouldUseDPoP('auto', { ...base, authorizationServer: silentAs })).toBe(false);
    const edOnly = { ...base.authorizationServer, dpop_signing_alg_values_supported: ['EdDSA'] };
    expect(shouldUseDPoP('auto', { ...base, authorizationServer: edOnly })).toBe(false);
  });

  it('always forces DPoP without any signal, and fails when a server lists algorithms without ES256', () => {
    const silentAs = { ...base.authorizationServer, dpop_signing_alg_values_supported: undefined };
    expect(shouldUseDPoP('always', { ...base, challengeSchemes: [], authorizationServer: silentAs })).toBe(
      true,
    );
    const edOnly = { ...base.authorizationServer, dpop_signing_alg_values_supported: ['EdDSA'] };
    expect(() => shouldUseDPoP('always', { ...base, authorizationServer: edOnly })).toThrow(
      expect.objectContaining({ code: OAuthClientErrorCode.Discovery }),
    );
  });

  it('never turns DPoP off', () => {
    expect(shouldUseDPoP('never', base)).toBe(false);
  });
});

describe('DPoPProver', () => {
  let key: StoredDPoPKey;

  beforeAll(async () => {
    const w = await startDPoPWorld();
    try {
      const auth = await detect(w);
      await login(w, auth, 'prover-key');
      key = (await peek(w.store, 'prover-key')).dpop!;
    } finally {
      await w.close();
    }
  });

  it('signs a fresh ES256 proof per request: htm, htu without query or fragment, iat, unique jti, ath', async () => {
    const prover = await createDPoPProver(key);
    const one = await prover.proof({
      method: 'POST',
      url: 'https://MCP.example.com/a/mcp?session=1#frag',
      accessToken: 'tok',
    });
    const two = await prover.proof({
      method: 'POST',
      url: 'https://mcp.example.com/a/mcp',
      accessToken: 'tok',
    });
    const header = decodeProtectedHeader(one);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'dpop+jwt' });
    expect(header.jwk).toBeDefined();
    expect(header.jwk).not.toHaveProperty('d');
    expect(await calculateJwkThumbprint(header.jwk!)).toBe(key.jkt);
    expect(prover.jkt).toBe(key.jkt);
    const { payload } = await jwtVerify(one, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256'] });
    expect(payload).toMatchObject({ htm: 'POST', htu: 'https://mcp.example.com/a/mcp', ath: dpopAth('tok') });
    expect(Math.abs(Date.now() / 1000 - (payload.iat as number))).toBeLessThan(60);
    expect(payload).not.toHaveProperty('nonce');
    expect(decodeJwt(two).jti).not.toBe(payload.jti);
    const noToken = decodeJwt(await prover.proof({ method: 'GET', url: 'https://mcp.example.com/a/mcp' }));
    expect(noToken).not.toHaveProperty('ath');
    expect(noToken.htm).toBe('GET');
  });

  it('remembers the latest valid nonce per origin and ignores malformed ones', async () => {
    const prover = await createDPoPProver(key);
    prover.rememberNonce('https://a.example/mcp', 'n-1');
    prover.rememberNonce('https://a.example/other', 'n-2');
    prover.rememberNonce('https://a.example/mcp', 'bad "nonce"');
    prover.rememberNonce('https://a.example/mcp', '');
    const a = decodeJwt(await prover.proof({ method: 'POST', url: 'https://a.example/mcp' }));
    const b = decodeJwt(await prover.proof({ method: 'POST', url: 'https://b.example/mcp' }));
    expect(a.nonce).toBe('n-2');
    expect(b).not.toHaveProperty('nonce');
    expect(prover.nonceFor('https://a.example/x')).toBe('n-2');
  });

  it('refuses an unusable stored key with a store error that quotes no key material', async () => {
    const broken = { ...key, privateJwk: { ...key.privateJwk, crv: 'P-384' } };
    const err = (await createDPoPProver(broken, 'w1').catch((e: unknown) => e)) as Error & { code?: string };
    expect(err).toMatchObject({ code: OAuthClientErrorCode.Store });
    expect(err.message).toContain('bastion login w1');
    expect(err.message).not.toContain(key.privateJwk.d as string);
    const bad = { ...key, privateJwk: { ...key.privateJwk, d: 'AAAA' } };
    await expect(createDPoPProver(bad)).rejects.toMatchObject({ code: OAuthClientErrorCode.Store });
  });

  it('recognises use_dpop_nonce challenges only in the DPoP scheme', () => {
    expect(isUseDPoPNonceChallenge('DPoP error="use_dpop_nonce", algs="ES256"')).toBe(true);
    expect(isUseDPoPNonceChallenge(['Bearer realm="x"', 'DPoP error="use_dpop_nonce"'])).toBe(true);
    expect(isUseDPoPNonceChallenge('Bearer error="use_dpop_nonce"')).toBe(false);
    expect(isUseDPoPNonceChallenge('DPoP error="invalid_token"')).toBe(false);
    expect(isUseDPoPNonceChallenge(undefined)).toBe(false);
  });
});

describe('DPoP logins and sessions against the testkit IdP (oidc-provider)', () => {
  let w: DPoPWorld;
  let auth: RemoteAuthRequirement;

  beforeAll(async () => {
    w = await startDPoPWorld();
    auth = await detect(w);
  });
  afterAll(() => w.close());

  it('auto: binds the token to a new key (proof at the token request, dpop_jkt, cnf.jkt) and the MCP server accepts it', async () => {
    expect(auth.challengeSchemes).toEqual(['dpop', 'bearer']);
    const { result, authorizeUrl } = await login(w, auth, 'bound');
    expect(result.dpopBound).toBe(true);
    const grant = await peek(w.store, 'bound');
    expect(grant.tokens?.tokenType).toBe('dpop');
    const key = grant.dpop!;
    expect(key.alg).toBe('ES256');
    expect(authorizeUrl.searchParams.get('dpop_jkt')).toBe(key.jkt);
    expect(decodeJwt(grant.tokens!.accessToken).cnf).toEqual({ jkt: key.jkt });

    const session = await OAuthSession.open({ name: 'bound', store: w.store });
    try {
      const token = await session.getAccessToken();
      const prover = (await session.dpopProver())!;
      expect(prover.jkt).toBe(key.jkt);
      const proof = await prover.proof({ method: 'POST', url: w.up.url, accessToken: token });
      const accepted = await postInitialize(w, token, proof);
      expect(accepted.status).toBe(200);
      await accepted.body?.cancel();
      // The same proof again is a replay: the MCP server refuses it.
      const replay = await postInitialize(w, token, proof);
      expect(replay.status).toBe(401);
      expect(replay.headers.get('www-authenticate')).toContain('invalid_dpop_proof');
      await replay.body?.cancel();
      // Presented as Bearer, the bound token is refused.
      const bearer = await fetch(w.up.url, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      expect(bearer.status).toBe(401);
      await bearer.body?.cancel();
    } finally {
      session.close();
    }
  });

  it('refresh: sends a proof with the persisted key and the new token stays bound to it', async () => {
    await login(w, auth, 'refresh');
    const before = await peek(w.store, 'refresh');
    await expire(w.store, 'refresh');
    const session = await OAuthSession.open({ name: 'refresh', store: w.store });
    try {
      const count = tokenRequests(w, 'refresh_token');
      const token = await session.getAccessToken();
      // oidc-provider binds a public client's refresh token to the DPoP key: this refresh succeeds
      // only with a proof signed by the same key.
      expect(tokenRequests(w, 'refresh_token')).toBe(count + 1);
      expect(token).not.toBe(before.tokens?.accessToken);
      const after = await peek(w.store, 'refresh');
      expect(after.tokens?.tokenType).toBe('dpop');
      expect(after.dpop).toEqual(before.dpop);
      expect(decodeJwt(token).cnf).toEqual({ jkt: before.dpop!.jkt });
      const prover = (await session.dpopProver())!;
      const res = await postInitialize(
        w,
        token,
        await prover.proof({ method: 'POST', url: w.up.url, accessToken: token }),
      );
      expect(res.status).toBe(200);
      await res.body?.cancel();
    } finally {
      session.close();
    }
  });

  it('a new login makes a new key', async () => {
    await login(w, auth, 'relogin');
    const first = (await peek(w.store, 'relogin')).dpop!;
    await login(w, auth, 'relogin');
    const second = (await peek(w.store, 'relogin')).dpop!;
    expect(second.jkt).not.toBe(first.jkt);
    expect(second.privateJwk.d).not.toBe(first.privateJwk.d);
  });

  it('keeps the private key only inside the encrypted token store', async () => {
    await login(w, auth, 'at-rest');
    const d = (await peek(w.store, 'at-rest')).dpop!.privateJwk.d as string;
    const files = await readdir(w.dir, { recursive: true, withFileTypes: true });
    const contents = await Promise.all(
      files.filter((f) => f.isFile()).map((f) => readFile(join(f.parentPath, f.name), 'utf8')),
    );
    expect(contents.length).toBeGreaterThan(0);
    for (const text of contents) expect(text).not.toContain(d);
  });

  it('never: a Bearer token and no key, although both servers support DPoP', async () => {
    const { result, authorizeUrl } = await login(w, auth, 'never', { dpop: 'never' });
    expect(result.dpopBound).toBe(false);
    expect(authorizeUrl.searchParams.has('dpop_jkt')).toBe(false);
    const grant = await peek(w.store, 'never');
    expect(grant.tokens?.tokenType).toBe('bearer');
    expect(grant.dpop).toBeUndefined();
    expect(decodeJwt(grant.tokens!.accessToken).cnf).toBeUndefined();
    const session = await OAuthSession.open({ name: 'never', store: w.store });
    await expect(session.dpopProver()).resolves.toBeUndefined();
    session.close();
  });

  it('auto keeps Bearer for an MCP server that does not signal DPoP', async () => {
    const { result } = await login(w, { ...auth, challengeSchemes: ['bearer'] }, 'bearer-rs');
    expect(result.dpopBound).toBe(false);
    expect((await peek(w.store, 'bearer-rs')).tokens?.tokenType).toBe('bearer');
  });

  it('always fails the login when the token comes back Bearer', async () => {
    // The DPoP header (and dpop_jkt) is dropped on the way to the AS, which then issues a Bearer token.
    const stripProof: typeof fetch = (url, init) => {
      const headers = new Headers(init?.headers);
      headers.delete('dpop');
      return fetch(url, { ...init, headers });
    };
    await expect(
      login(w, auth, 'always-bearer', {
        dpop: 'always',
        fetch: stripProof,
        dropDpopJkt: true,
      }),
    ).rejects.toMatchObject({
      code: OAuthClientErrorCode.TokenRequest,
      message: expect.stringContaining('issued a Bearer token'),
    });
    expect(await peek(w.store, 'always-bearer')).toEqual({});
    // auto accepts the Bearer token the same AS issues.
    const { result } = await login(w, auth, 'auto-bearer', { fetch: stripProof, dropDpopJkt: true });
    expect(result.dpopBound).toBe(false);
  });

  it('device code: the polled token request carries the proof and the token is bound', async () => {
    // The IdP asks clients to poll every 5 s; lowering the advertised interval keeps the test fast.
    const fastPolling: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (!String(input).startsWith(w.idp.deviceAuthorizationEndpoint) || res.status !== 200) return res;
      const body = (await res.json()) as Record<string, unknown>;
      return Response.json({ ...body, interval: 1 });
    };
    const result = await loginWithDeviceCode({
      name: 'device',
      store: w.store,
      auth,
      client: { clientId: w.idp.clients.cli.clientId },
      fetch: fastPolling,
      onDeviceCode: (info) => w.idp.approveDevice(info.userCode, { username: 'alice' }),
    });
    expect(result.dpopBound).toBe(true);
    const grant = await peek(w.store, 'device');
    expect(decodeJwt(grant.tokens!.accessToken).cnf).toEqual({ jkt: grant.dpop!.jkt });
  });

  it('client credentials: the login and its re-run at expiry are bound to one key', async () => {
    const proxyClient = w.idp.clients.proxy;
    const result = await loginWithClientCredentials({
      name: 'machine',
      store: w.store,
      auth,
      client: { clientId: proxyClient.clientId, clientSecret: proxyClient.clientSecret },
    });
    expect(result.dpopBound).toBe(true);
    const before = await peek(w.store, 'machine');
    await expire(w.store, 'machine');
    const session = await OAuthSession.open({ name: 'machine', store: w.store });
    try {
      const token = await session.getAccessToken();
      expect(token).not.toBe(before.tokens?.accessToken);
      expect(decodeJwt(token).cnf).toEqual({ jkt: before.dpop!.jkt });
      expect((await peek(w.store, 'machine')).dpop).toEqual(before.dpop);
    } finally {
      session.close();
    }
  });
});

describe('DPoP nonces at the token endpoint (RFC 9449 §8)', () => {
  let w: DPoPWorld;
  let auth: RemoteAuthRequirement;

  beforeAll(async () => {
    w = await startDPoPWorld({ asNonce: true });
    auth = await detect(w);
  });
  afterAll(() => w.close());

  it('retries the code exchange once with the nonce, and a session remembers it across refreshes', async () => {
    const { result } = await login(w, auth, 'nonce');
    expect(result.dpopBound).toBe(true);
    // First proof without a nonce → use_dpop_nonce; the retry carries it.
    expect(tokenRequests(w, 'authorization_code')).toBe(2);

    await expire(w.store, 'nonce');
    const session = await OAuthSession.open({ name: 'nonce', store: w.store });
    try {
      let count = tokenRequests(w, 'refresh_token');
      const first = await session.getAccessToken();
      expect(tokenRequests(w, 'refresh_token')).toBe(count + 2); // a new handle learns the nonce once
      count = tokenRequests(w, 'refresh_token');
      const token = await session.handleUnauthorized(first);
      expect(tokenRequests(w, 'refresh_token')).toBe(count + 1); // remembered: no second challenge
      expect(decodeJwt(token).cnf).toEqual({ jkt: (await peek(w.store, 'nonce')).dpop!.jkt });
    } finally {
      session.close();
    }
  });
});
