/**
 * The middleware against the real testkit IdP (oidc-provider with an RFC 8693 grant) and the real
 * testkit MCP upstream. A recording proxy sits between the middleware and the IdP to assert the exact
 * form and client authentication the STS receives.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  type CacheLookupMessage,
  channels,
  type IdpFinishMessage,
  type Middleware,
  ProxyHttpError,
} from '@bastion-mcp/proxy-core';
import { freePort, type McpUpstream, startMcpUpstream, startTestIdp } from '@bastion-mcp/testkit';
import { createRemoteJWKSet, decodeJwt, importJWK, jwtVerify } from 'jose';
import {
  createTokenExchangeMiddleware,
  TokenCache,
  TokenExchangeErrorCode,
  type TokenExchangeOptions,
} from '../src/index.js';
import { formEncode, identityOf, run } from './helpers/chain.js';
import { type RecordingSts, startRecordingSts } from './helpers/recording-sts.js';

type Idp = Awaited<ReturnType<typeof startTestIdp>>;

let idp: Idp;
let up: McpUpstream;
let sts: RecordingSts;
let AUDIENCE: string;

beforeAll(async () => {
  idp = await startTestIdp();
  up = await startMcpUpstream({ stateless: true, jsonResponse: true });
  sts = await startRecordingSts({ tokenEndpoint: idp.tokenEndpoint });
  // the STS only issues tokens for resources it knows
  AUDIENCE = 'https://crm.bastion.test/mcp';
  idp.addResource(AUDIENCE, { scopes: ['crm.read', 'crm.write'] });
});

afterAll(async () => {
  await sts?.close();
  await up?.close();
  await idp?.close();
});

beforeEach(() => {
  sts.forward();
  sts.requests.length = 0;
  up.clearRequests();
});

function exchanger(patch: Partial<TokenExchangeOptions> = {}) {
  return createTokenExchangeMiddleware({
    tokenUrl: sts.tokenEndpoint,
    clientId: idp.clients.exchanger.clientId,
    clientSecret: idp.clients.exchanger.clientSecret!,
    audience: AUDIENCE,
    allowInsecureRequests: true,
    ...patch,
  } as TokenExchangeOptions);
}

async function userToken(sub = 'alice', ttlSeconds?: number): Promise<string> {
  return idp.issueAccessToken({ sub, resource: idp.resource, ...(ttlSeconds ? { ttlSeconds } : {}) });
}

function lastUpstreamHeaders() {
  const last = up.requests.at(-1);
  if (!last) throw new Error('the upstream received nothing');
  return last.headers;
}

async function expectFailure(
  middlewares: Middleware[],
  token: string | undefined,
  status: number,
  code: string,
): Promise<ProxyHttpError> {
  const before = up.requests.length;
  const { exchange, response } = run(middlewares, up.url, { token });
  const err = await response.then(
    () => {
      throw new Error('expected the request to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProxyHttpError);
  const httpErr = err as ProxyHttpError;
  expect(httpErr.status).toBe(status);
  expect(httpErr.code).toBe(code);
  expect(up.requests.length).toBe(before); // fail closed: the upstream was not contacted
  expect(exchange.notes.rejectedBy).toBe('token-exchange');
  expect(exchange.upstreamHeaders.authorization).toBeUndefined();
  if (token) {
    const serialised = JSON.stringify({
      err,
      message: httpErr.message,
      notes: exchange.notes,
      headers: httpErr.headers,
    });
    expect(serialised).not.toContain(token);
  }
  return httpErr;
}

describe('token exchange against the testkit IdP', () => {
  it('exchanges the inbound token and sends only the exchanged token upstream', async () => {
    const token = await userToken('alice');
    const { exchange, response } = run([exchanger()], up.url, { token });
    await response;
    const auth = lastUpstreamHeaders().authorization;
    expect(auth).toMatch(/^Bearer /);
    const upstreamToken = String(auth).slice('Bearer '.length);
    expect(upstreamToken).not.toBe(token);
    expect(JSON.stringify(up.requests.at(-1)?.headers)).not.toContain(token);
    const claims = decodeJwt(upstreamToken);
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    expect(aud).toContain(AUDIENCE);
    expect(claims.sub).toBe('alice');
    expect(exchange.notes.upstreamCredential).toBe('exchange');
    expect(exchange.notes.tokenExchange).toEqual({
      grant: 'token-exchange',
      outcome: 'success',
      cached: false,
    });
  });

  it('sends the RFC 8693 form with client_secret_basic', async () => {
    const token = await userToken('bob');
    await run([exchanger({ scope: ['crm.read'] })], up.url, { token }).response;
    expect(sts.requests).toHaveLength(1);
    const req = sts.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(req.form.sort()).toEqual(
      [
        ['grant_type', 'urn:ietf:params:oauth:grant-type:token-exchange'],
        ['subject_token', token],
        ['subject_token_type', 'urn:ietf:params:oauth:token-type:access_token'],
        ['requested_token_type', 'urn:ietf:params:oauth:token-type:access_token'],
        ['audience', AUDIENCE],
        ['scope', 'crm.read'],
      ].sort(),
    );
    const { clientId, clientSecret } = idp.clients.exchanger;
    const basic = Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret!)}`).toString('base64');
    expect(req.headers.authorization).toBe(`Basic ${basic}`);
  });

  it('authenticates with client_secret_post: credentials in the form, no Authorization header', async () => {
    const token = await userToken('carol');
    const { clientId, clientSecret } = idp.clients.exchangerPost;
    await run([exchanger({ clientAuth: 'client_secret_post', clientId, clientSecret })], up.url, { token })
      .response;
    const req = sts.requests[0]!;
    expect(req.headers.authorization).toBeUndefined();
    const form = Object.fromEntries(req.form);
    expect(form.client_id).toBe(clientId);
    expect(form.client_secret).toBe(clientSecret);
    expect(idp.requests.at(-1)).toMatchObject({ clientAuthMethod: 'client_secret_post', clientId });
    expect(decodeJwt(String(lastUpstreamHeaders().authorization).slice(7)).sub).toBe('carol');
  });

  it('authenticates with private_key_jwt using the client key, no secret', async () => {
    const token = await userToken('cathy');
    const { clientId, privateJwk } = idp.clients.exchangerJwt;
    const m = exchanger({
      clientSecret: undefined,
      clientId,
      privateKey: privateJwk,
      privateKeyAlg: 'ES256',
      issuer: idp.issuer,
    });
    const res = await run([m], up.url, { token }).response;
    expect(res.status).toBe(200);
    // The IdP accepted the assertion and exchanged the token: the upstream got a token of the IdP
    // for the target audience, on behalf of cathy, with the private_key_jwt client as actor.
    const exchanged = String(lastUpstreamHeaders().authorization).replace(/^Bearer /, '');
    expect(exchanged).not.toBe(token);
    const { payload: upstreamClaims } = await jwtVerify(exchanged, createRemoteJWKSet(new URL(idp.jwksUri)), {
      issuer: idp.issuer,
      audience: AUDIENCE,
    });
    expect(upstreamClaims).toMatchObject({ sub: 'cathy', client_id: clientId, act: { sub: clientId } });
    expect(idp.requests.at(-1)).toMatchObject({ endpoint: 'token', clientAuthMethod: 'private_key_jwt' });
    const form = Object.fromEntries(sts.requests[0]!.form);
    expect(sts.requests[0]!.headers.authorization).toBeUndefined();
    expect(form.client_secret).toBeUndefined();
    expect(form.client_assertion_type).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    const { d: _private, ...publicJwk } = privateJwk as Record<string, string>;
    const { payload, protectedHeader } = await jwtVerify(
      String(form.client_assertion),
      await importJWK(publicJwk, 'ES256'),
      {
        issuer: clientId,
        subject: clientId,
        audience: idp.issuer,
      },
    );
    expect(protectedHeader.kid).toBe(privateJwk?.kid);
    expect(typeof payload.jti).toBe('string');
    expect(idp.requests.at(-1)).toMatchObject({ clientAuthMethod: 'private_key_jwt', clientId });
  });

  it('sends the id_token subject type and omits requested_token_type when asked', async () => {
    const token = await userToken('dave');
    await run([exchanger({ subjectTokenType: 'id_token', requestedTokenType: null })], up.url, {
      token,
    }).response.catch(() => undefined);
    const form = Object.fromEntries(sts.requests[0]!.form);
    expect(form.subject_token_type).toBe('urn:ietf:params:oauth:token-type:id_token');
    expect('requested_token_type' in form).toBe(false);
  });

  it('puts the exchanged token in a named header and keeps the original in Authorization', async () => {
    const token = await userToken('erin');
    await run([exchanger({ header: { name: 'X-Upstream-Token', keepOriginal: true } })], up.url, { token })
      .response;
    const headers = lastUpstreamHeaders();
    expect(headers.authorization).toBe(`Bearer ${token}`);
    const exchanged = String(headers['x-upstream-token']).replace(/^Bearer /, '');
    expect(exchanged).not.toBe(token);
    expect(decodeJwt(exchanged).sub).toBe('erin');
  });

  it('puts the exchanged token in a named header and sends no Authorization without keepOriginal', async () => {
    const token = await userToken('frank');
    await run([exchanger({ header: { name: 'x-upstream-token', scheme: '' } })], up.url, { token }).response;
    const headers = lastUpstreamHeaders();
    expect(headers.authorization).toBeUndefined();
    expect(decodeJwt(String(headers['x-upstream-token'])).sub).toBe('frank');
  });

  it('makes one STS call for 50 concurrent requests with the same token', async () => {
    const token = await userToken('grace');
    const te = exchanger();
    const hitsBefore = idp.hits.tokenExchange;
    const runs = Array.from({ length: 50 }, () => run([te], up.url, { token }));
    await Promise.all(runs.map((r) => r.response));
    expect(idp.hits.tokenExchange - hitsBefore).toBe(1);
    expect(sts.requests).toHaveLength(1);
    const auths = new Set(up.requests.slice(-50).map((r) => r.headers.authorization));
    expect(auths.size).toBe(1);
    const notes = runs.map((r) => r.exchange.notes.tokenExchange as { cached: boolean; coalesced?: boolean });
    expect(notes.filter((n) => !n.cached && !n.coalesced)).toHaveLength(1);
    // a later request is a plain cache hit
    const later = run([te], up.url, { token });
    await later.response;
    expect(later.exchange.notes.tokenExchange).toMatchObject({ cached: true });
    expect(idp.hits.tokenExchange - hitsBefore).toBe(1);
  });

  it('calls the STS again once the cached token expires (expires_in minus skew)', async () => {
    let now = Date.now();
    const te = exchanger({ now: () => now, expirySkewMs: 30_000 });
    const token = await userToken('heidi', 3600);
    await run([te], up.url, { token }).response;
    await run([te], up.url, { token }).response;
    expect(sts.requests).toHaveLength(1);
    const exchanged = String(lastUpstreamHeaders().authorization).slice(7);
    const { exp, iat } = decodeJwt(exchanged);
    const lifetimeMs = ((exp ?? 0) - (iat ?? 0)) * 1000;
    now += lifetimeMs - 30_000 - 1_000; // still inside expires_in − skew
    await run([te], up.url, { token }).response;
    expect(sts.requests).toHaveLength(1);
    now += 1_000; // reached expires_in − skew
    await run([te], up.url, { token }).response;
    expect(sts.requests).toHaveLength(2);
  });

  it('never keeps an exchanged token past the subject token expiry', async () => {
    let now = Date.now();
    const te = exchanger({ now: () => now, expirySkewMs: 0 });
    const token = await userToken('ivan', 3600);
    const identity = { ...identityOf(token), expiresAt: Math.floor(now / 1000) + 20 };
    await run([te], up.url, { token, identity }).response;
    now += 19_000;
    await run([te], up.url, { token, identity }).response;
    expect(sts.requests).toHaveLength(1);
    now += 2_000;
    await run([te], up.url, { token, identity }).response;
    expect(sts.requests).toHaveLength(2);
  });

  it('keeps separate cache entries per scope, and per subject token', async () => {
    const cache = new TokenCache<string>();
    const a = exchanger({ cache, scope: 'crm.read' });
    const b = exchanger({ cache, scope: 'crm.read crm.write' });
    const token = await userToken('judy');
    await run([a], up.url, { token }).response;
    await run([b], up.url, { token }).response;
    expect(sts.requests.map((r) => Object.fromEntries(r.form).scope)).toEqual([
      'crm.read',
      'crm.read crm.write',
    ]);
    await run([a], up.url, { token }).response;
    await run([b], up.url, { token }).response;
    expect(sts.requests).toHaveLength(2);
    expect(cache.size).toBe(2);
    await run([a], up.url, { token: await userToken('judy') }).response;
    expect(sts.requests).toHaveLength(3);
  });

  it('publishes the STS call and the cache lookups on the diagnostics channels', async () => {
    const finishes: IdpFinishMessage[] = [];
    const lookups: CacheLookupMessage[] = [];
    const onFinish = (m: unknown) => finishes.push(m as IdpFinishMessage);
    const onLookup = (m: unknown) => lookups.push(m as CacheLookupMessage);
    diagnosticsChannel.subscribe(channels.idpFinish.name, onFinish);
    diagnosticsChannel.subscribe(channels.cacheLookup.name, onLookup);
    try {
      const te = exchanger();
      const token = await userToken('ken');
      await run([te], up.url, { token }).response;
      await run([te], up.url, { token }).response;
      const ours = finishes.filter((f) => f.kind === 'token-exchange');
      expect(ours).toHaveLength(1);
      expect(ours[0]).toMatchObject({ ok: true, url: sts.tokenEndpoint });
      expect(lookups.filter((l) => l.cache === 'token-exchange').map((l) => l.result)).toEqual([
        'miss',
        'hit',
      ]);
      expect(JSON.stringify(finishes.map(({ exchange: _e, ...rest }) => rest))).not.toContain(token);
    } finally {
      diagnosticsChannel.unsubscribe(channels.idpFinish.name, onFinish);
      diagnosticsChannel.unsubscribe(channels.cacheLookup.name, onLookup);
    }
  });

  it('discovers the token endpoint from the issuer', async () => {
    const te = createTokenExchangeMiddleware({
      issuer: idp.issuer,
      clientId: idp.clients.exchanger.clientId,
      clientSecret: idp.clients.exchanger.clientSecret!,
      audience: AUDIENCE,
      allowInsecureRequests: true,
    });
    expect(te.readiness?.().ready).toBe(false);
    const token = await userToken('leo');
    await run([te], up.url, { token }).response;
    expect(decodeJwt(String(lastUpstreamHeaders().authorization).slice(7)).sub).toBe('leo');
    expect(te.readiness?.()).toEqual({ ready: true });
  });
});

describe('failures fail closed', () => {
  it('answers 401 invalid_token when the STS rejects the subject token', async () => {
    const hitsBefore = idp.hits.tokenExchange;
    const err = await expectFailure(
      [
        exchanger({
          challenge: { realm: idp.issuer, resourceMetadataUrl: 'http://proxy.test/.well-known/x' },
        }),
      ],
      'not-a-token-the-idp-issued',
      401,
      TokenExchangeErrorCode.Rejected,
    );
    expect(idp.hits.tokenExchange - hitsBefore).toBe(1);
    expect(err.oauthError).toEqual({ error: 'invalid_token', error_description: 'token exchange failed' });
    expect(err.headers['www-authenticate']).toBe(
      `Bearer realm="${idp.issuer}", resource_metadata="http://proxy.test/.well-known/x", error="invalid_token", error_description="token exchange failed"`,
    );
    expect((err as unknown as { stsError: string }).stsError).toBe('invalid_grant');
  });

  it('does not cache a rejection: the next request asks the STS again', async () => {
    const te = exchanger();
    await expectFailure([te], 'bogus-1', 401, TokenExchangeErrorCode.Rejected);
    await expectFailure([te], 'bogus-1', 401, TokenExchangeErrorCode.Rejected);
    expect(sts.requests).toHaveLength(2);
  });

  it('answers 401 without calling the STS when there is no inbound token', async () => {
    const { exchange, response } = run([exchanger()], up.url, {});
    await expect(response).rejects.toMatchObject({
      status: 401,
      code: TokenExchangeErrorCode.NoSubjectToken,
    });
    expect(sts.requests).toHaveLength(0);
    expect(up.requests).toHaveLength(0);
    expect(exchange.notes.tokenExchange).toMatchObject({ outcome: 'no-subject-token' });
  });

  it('answers 502 when the STS refuses the proxy client (wrong secret)', async () => {
    const token = await userToken('mallory');
    await expectFailure(
      [exchanger({ clientSecret: 'wrong-secret' })],
      token,
      502,
      TokenExchangeErrorCode.Refused,
    );
  });

  it('answers 503 with Retry-After when the STS is unreachable', async () => {
    const port = await freePort();
    const token = await userToken('nina');
    const err = await expectFailure(
      [exchanger({ tokenUrl: `http://127.0.0.1:${port}/token`, retryAfterSeconds: 7 })],
      token,
      503,
      TokenExchangeErrorCode.Unavailable,
    );
    expect(err.headers['retry-after']).toBe('7');
  });

  it('answers 503 when the STS answers 5xx, and passes on its Retry-After', async () => {
    const token = await userToken('oscar');
    sts.respondWith({ status: 500, body: '{"error":"server_error"}' });
    const err = await expectFailure([exchanger()], token, 503, TokenExchangeErrorCode.Unavailable);
    expect(err.headers['retry-after']).toBe('5');
    sts.respondWith({ status: 503, headers: { 'retry-after': '12' }, body: 'busy' });
    const err2 = await expectFailure([exchanger()], token, 503, TokenExchangeErrorCode.Unavailable);
    expect(err2.headers['retry-after']).toBe('12');
    sts.respondWith({ status: 429, headers: { 'retry-after': '3' }, body: '{"error":"slow_down"}' });
    const err3 = await expectFailure([exchanger()], token, 503, TokenExchangeErrorCode.Unavailable);
    expect(err3.headers['retry-after']).toBe('3');
  });

  it('answers 503 when the STS is slower than timeoutMs', async () => {
    const token = await userToken('peggy');
    // a server that accepts the connection and never answers
    const { createServer } = await import('node:http');
    const hanging = createServer(() => {});
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', () => r()));
    const { port } = hanging.address() as { port: number };
    try {
      await expectFailure(
        [exchanger({ tokenUrl: `http://127.0.0.1:${port}/token`, timeoutMs: 200 })],
        token,
        503,
        TokenExchangeErrorCode.Unavailable,
      );
    } finally {
      hanging.closeAllConnections();
      await new Promise<void>((r) => hanging.close(() => r()));
    }
  });
});

describe('client_credentials mode', () => {
  it('sends one cached service token upstream for every user', async () => {
    const te = exchanger({ grant: 'client_credentials', audience: undefined, resource: idp.resource });
    const [t1, t2] = await Promise.all([userToken('ursula'), userToken('victor')]);
    const r1 = run([te], up.url, { token: t1 });
    const r2 = run([te], up.url, { token: t2 });
    await Promise.all([r1.response, r2.response]);
    expect(sts.requests).toHaveLength(1);
    const form = Object.fromEntries(sts.requests[0]!.form);
    expect(form.grant_type).toBe('client_credentials');
    expect(form.subject_token).toBeUndefined();
    const auths = up.requests.slice(-2).map((r) => String(r.headers.authorization));
    expect(auths[0]).toBe(auths[1]);
    const service = decodeJwt(auths[0]!.slice(7));
    expect(service.sub ?? service.client_id).toBe(idp.clients.exchanger.clientId);
    expect(r1.exchange.notes.upstreamCredential).toBe('client-credentials');
  });

  it('refuses requests that no auth middleware identified', async () => {
    const te = exchanger({ grant: 'client_credentials' });
    const { response } = run([te], up.url, { identity: null });
    await expect(response).rejects.toMatchObject({
      status: 401,
      code: TokenExchangeErrorCode.NoSubjectToken,
    });
    expect(sts.requests).toHaveLength(0);
  });
});
