/**
 * What goes over the wire to the STS, and how every kind of STS answer is mapped. The STS here is
 * the recording HTTP server in canned-response mode: these are answers (5xx, 429, malformed bodies,
 * client-auth challenges, DPoP or N_A token types) that the real testkit IdP cannot be made to give.
 * The flows against the real IdP are in exchange.test.ts and e2e.test.ts.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { ProxyHttpError } from '@bastion-mcp/proxy-core';
import { type McpUpstream, startMcpUpstream } from '@bastion-mcp/testkit';
import { decodeProtectedHeader, exportJWK, importJWK, jwtVerify } from 'jose';
import {
  createTokenExchangeMiddleware,
  TokenExchangeErrorCode,
  type TokenExchangeOptions,
} from '../src/index.js';
import { formEncode, run } from './helpers/chain.js';
import { type RecordingSts, startRecordingSts } from './helpers/recording-sts.js';

// An unsigned JWT-shaped subject token: the canned STS never validates it.
const SUBJECT = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4IiwiZXhwIjo5OTk5OTk5OTk5fQ.';
const ISSUED_AT = 'urn:ietf:params:oauth:token-type:access_token';

let up: McpUpstream;
let sts: RecordingSts;

beforeAll(async () => {
  up = await startMcpUpstream({ stateless: true, jsonResponse: true });
  // nothing listens on port 1: every test sets a canned answer before the middleware calls
  sts = await startRecordingSts({ tokenEndpoint: 'http://127.0.0.1:1/oauth/token' });
});

afterAll(async () => {
  await sts?.close();
  await up?.close();
});

beforeEach(() => {
  sts.requests.length = 0;
  up.clearRequests();
  sts.respondWith({
    status: 200,
    body: JSON.stringify({
      access_token: 'EXCHANGED.TOKEN',
      token_type: 'Bearer',
      issued_token_type: ISSUED_AT,
      expires_in: 300,
      refresh_token: 'REFRESH-IGNORED',
    }),
  });
});

function te(patch: Partial<TokenExchangeOptions> = {}) {
  return createTokenExchangeMiddleware({
    tokenUrl: sts.tokenEndpoint,
    clientId: 'proxy client',
    clientSecret: 'sec:ret/+',
    audience: 'https://crm.example',
    allowInsecureRequests: true,
    ...patch,
  } as TokenExchangeOptions);
}

async function fails(
  patch: Partial<TokenExchangeOptions> = {},
): Promise<ProxyHttpError & Record<string, unknown>> {
  const { response } = run([te(patch)], up.url, { token: SUBJECT });
  const err = await response.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as ProxyHttpError & Record<string, unknown>,
  );
  expect(up.requests).toHaveLength(0);
  expect(JSON.stringify({ err, m: err.message })).not.toContain(SUBJECT);
  return err;
}

describe('client authentication on the wire', () => {
  it('client_secret_basic: form-urlencoded id and secret in Basic, nothing in the form', async () => {
    await run([te()], up.url, { token: SUBJECT }).response;
    const req = sts.requests[0]!;
    const expected = Buffer.from(`${formEncode('proxy client')}:${formEncode('sec:ret/+')}`);
    expect(req.headers.authorization).toBe(`Basic ${expected.toString('base64')}`);
    const keys = req.form.map(([k]) => k).sort();
    expect(keys).toEqual(
      ['audience', 'grant_type', 'requested_token_type', 'subject_token', 'subject_token_type'].sort(),
    );
  });

  it('client_secret_post: id and secret in the form, no Authorization header', async () => {
    await run([te({ clientAuth: 'client_secret_post' })], up.url, { token: SUBJECT }).response;
    const req = sts.requests[0]!;
    expect(req.headers.authorization).toBeUndefined();
    const form = Object.fromEntries(req.form);
    expect(form.client_id).toBe('proxy client');
    expect(form.client_secret).toBe('sec:ret/+');
  });

  it('private_key_jwt: a signed client assertion (iss = sub = client id, aud = issuer), no secret', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await run(
      [
        te({
          clientSecret: undefined,
          privateKey,
          privateKeyAlg: 'ES256',
          privateKeyId: 'key-1',
          issuer: 'https://sts.example',
        }),
      ],
      up.url,
      { token: SUBJECT },
    ).response;
    const req = sts.requests[0]!;
    expect(req.headers.authorization).toBeUndefined();
    const form = Object.fromEntries(req.form);
    expect(form.client_secret).toBeUndefined();
    expect(form.client_id).toBe('proxy client');
    expect(form.client_assertion_type).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    const assertion = String(form.client_assertion);
    expect(decodeProtectedHeader(assertion)).toMatchObject({ alg: 'ES256', kid: 'key-1' });
    const { payload } = await jwtVerify(assertion, publicKey, {
      issuer: 'proxy client',
      subject: 'proxy client',
      audience: 'https://sts.example',
    });
    expect(typeof payload.jti).toBe('string');
    expect(payload.exp).toBeGreaterThan(Date.now() / 1000);
  });

  it('private_key_jwt with a private JWK uses its alg and kid, and the token URL as default audience', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...(await exportJWK(privateKey)), alg: 'PS256', kid: 'jwk-kid' };
    await run([te({ clientSecret: undefined, privateKey: jwk })], up.url, { token: SUBJECT }).response;
    const assertion = String(Object.fromEntries(sts.requests[0]!.form).client_assertion);
    expect(decodeProtectedHeader(assertion)).toMatchObject({ alg: 'PS256', kid: 'jwk-kid' });
    await jwtVerify(assertion, await importJWK(await exportJWK(publicKey), 'PS256'), {
      audience: sts.tokenEndpoint,
    });
  });

  it('fails closed with 500 when the private key cannot be imported', async () => {
    const err = await fails({
      clientSecret: undefined,
      privateKey: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----',
    });
    expect(err.status).toBe(500);
    expect(err.code).toBe(TokenExchangeErrorCode.Config);
    expect(sts.requests).toHaveLength(0);
  });
});

describe('request parameters', () => {
  it('sends several audiences and resources, and the space-joined scope', async () => {
    await run(
      [
        te({
          audience: ['a1', 'a2'],
          resource: ['https://r1.example/', 'https://r2.example/'],
          scope: ['x', 'y'],
        }),
      ],
      up.url,
      { token: SUBJECT },
    ).response;
    const form = sts.requests[0]!.form;
    expect(form.filter(([k]) => k === 'audience').map(([, v]) => v)).toEqual(['a1', 'a2']);
    expect(form.filter(([k]) => k === 'resource').map(([, v]) => v)).toEqual([
      'https://r1.example/',
      'https://r2.example/',
    ]);
    expect(Object.fromEntries(form).scope).toBe('x y');
  });

  it('client_credentials sends only the grant and the target, never a subject token', async () => {
    sts.respondWith({
      status: 200,
      body: '{"access_token":"SERVICE","token_type":"Bearer","expires_in":60}',
    });
    await run([te({ grant: 'client_credentials', scope: 'svc' })], up.url, { token: SUBJECT }).response;
    expect(Object.fromEntries(sts.requests[0]!.form)).toEqual({
      grant_type: 'client_credentials',
      audience: 'https://crm.example',
      scope: 'svc',
    });
    expect(up.requests[0]?.headers.authorization).toBe('Bearer SERVICE');
  });
});

describe('token responses', () => {
  it('accepts N_A token_type (RFC 8693) and injects the token as Bearer', async () => {
    sts.respondWith({
      status: 200,
      body: JSON.stringify({ access_token: 'NA.TOKEN', token_type: 'N_A', issued_token_type: ISSUED_AT }),
    });
    await run([te()], up.url, { token: SUBJECT }).response;
    expect(up.requests[0]?.headers.authorization).toBe('Bearer NA.TOKEN');
  });

  it('uses defaultTtlMs when expires_in is missing', async () => {
    let now = 1_000_000;
    sts.respondWith({
      status: 200,
      body: JSON.stringify({ access_token: 'T', token_type: 'Bearer', issued_token_type: ISSUED_AT }),
    });
    const m = te({ now: () => now, defaultTtlMs: 10_000 });
    await run([m], up.url, { token: SUBJECT, identity: null }).response;
    now += 9_999;
    await run([m], up.url, { token: SUBJECT, identity: null }).response;
    expect(sts.requests).toHaveLength(1);
    now += 1;
    await run([m], up.url, { token: SUBJECT, identity: null }).response;
    expect(sts.requests).toHaveLength(2);
  });

  it('does not cache a token whose expires_in is within the skew', async () => {
    sts.respondWith({
      status: 200,
      body: JSON.stringify({
        access_token: 'T',
        token_type: 'Bearer',
        issued_token_type: ISSUED_AT,
        expires_in: 20,
      }),
    });
    const m = te({ expirySkewMs: 30_000 });
    await run([m], up.url, { token: SUBJECT }).response;
    await run([m], up.url, { token: SUBJECT }).response;
    expect(sts.requests).toHaveLength(2);
    expect(m.cache.size).toBe(0);
  });

  it('never stores the refresh token', async () => {
    const m = te();
    await run([m], up.url, { token: SUBJECT }).response;
    const second = run([m], up.url, { token: SUBJECT });
    await second.response;
    expect(second.exchange.notes.tokenExchange).toMatchObject({ cached: true });
    expect(up.requests.map((r) => r.headers.authorization)).toEqual([
      'Bearer EXCHANGED.TOKEN',
      'Bearer EXCHANGED.TOKEN',
    ]);
    expect(JSON.stringify(second.exchange.notes)).not.toContain('REFRESH');
  });
});

describe('STS answers that fail closed', () => {
  const cases: [
    string,
    { status: number; headers?: Record<string, string>; body: string },
    number,
    string,
    Record<string, unknown>,
  ][] = [
    [
      'invalid_grant',
      { status: 400, body: '{"error":"invalid_grant","error_description":"expired"}' },
      401,
      'Rejected',
      { stsError: 'invalid_grant', stsStatus: 400 },
    ],
    [
      'invalid_request',
      { status: 400, body: '{"error":"invalid_request"}' },
      401,
      'Rejected',
      { stsError: 'invalid_request' },
    ],
    [
      'invalid_target',
      { status: 400, body: '{"error":"invalid_target"}' },
      502,
      'Refused',
      { stsError: 'invalid_target' },
    ],
    [
      'invalid_client with a challenge',
      {
        status: 401,
        headers: { 'www-authenticate': 'Basic realm="sts"' },
        body: '{"error":"invalid_client"}',
      },
      502,
      'Refused',
      { stsStatus: 401 },
    ],
    [
      'unauthorized_client',
      { status: 400, body: '{"error":"unauthorized_client"}' },
      502,
      'Refused',
      { stsError: 'unauthorized_client' },
    ],
    [
      'a 404 error page',
      { status: 404, headers: { 'content-type': 'text/html' }, body: '<h1>no</h1>' },
      502,
      'Refused',
      { stsStatus: 404 },
    ],
    ['a 500', { status: 500, body: '{"error":"server_error"}' }, 503, 'Unavailable', { stsStatus: 500 }],
    [
      'a 502 error page',
      { status: 502, headers: { 'content-type': 'text/html' }, body: '<h1>bad</h1>' },
      503,
      'Unavailable',
      { stsStatus: 502 },
    ],
    [
      'a 429 with Retry-After',
      { status: 429, headers: { 'content-type': 'text/plain', 'retry-after': '9' }, body: 'slow' },
      503,
      'Unavailable',
      { retryAfterSeconds: 9 },
    ],
    [
      'a 503 with a huge Retry-After',
      { status: 503, headers: { 'retry-after': '99999' }, body: '' },
      503,
      'Unavailable',
      { retryAfterSeconds: 300 },
    ],
    [
      'no issued_token_type',
      { status: 200, body: '{"access_token":"abc","token_type":"Bearer","expires_in":60}' },
      502,
      'BadResponse',
      {},
    ],
    [
      'no access_token',
      { status: 200, body: `{"token_type":"Bearer","issued_token_type":"${ISSUED_AT}"}` },
      502,
      'BadResponse',
      {},
    ],
    [
      'an empty access_token',
      { status: 200, body: `{"access_token":"","token_type":"Bearer","issued_token_type":"${ISSUED_AT}"}` },
      502,
      'BadResponse',
      {},
    ],
    [
      'a body that is not JSON',
      { status: 200, headers: { 'content-type': 'text/html' }, body: '<html/>' },
      502,
      'BadResponse',
      {},
    ],
    ['unparseable JSON', { status: 200, body: '{"access_token":' }, 502, 'BadResponse', {}],
    [
      'a DPoP token',
      { status: 200, body: `{"access_token":"abc","token_type":"DPoP","issued_token_type":"${ISSUED_AT}"}` },
      502,
      'BadResponse',
      {},
    ],
    [
      'an unknown token_type',
      { status: 200, body: `{"access_token":"abc","token_type":"mac","issued_token_type":"${ISSUED_AT}"}` },
      502,
      'BadResponse',
      {},
    ],
    [
      'a token with CR LF',
      {
        status: 200,
        body: `{"access_token":"a\\r\\nx-evil: 1","token_type":"Bearer","issued_token_type":"${ISSUED_AT}"}`,
      },
      502,
      'BadResponse',
      {},
    ],
  ];
  it.each(cases)('maps %s', async (_name, answer, status, codeKey, extra) => {
    sts.respondWith(answer);
    const err = await fails();
    expect(err.status).toBe(status);
    expect(err.code).toBe(TokenExchangeErrorCode[codeKey as keyof typeof TokenExchangeErrorCode]);
    expect(err).toMatchObject(extra);
    if (status === 503) expect(err.headers['retry-after']).toMatch(/^\d+$/);
    if (status === 401) {
      expect(err.headers['www-authenticate']).toContain('error="invalid_token"');
      expect(err.oauthError?.error).toBe('invalid_token');
    }
    // the STS's own description never reaches the client or the error message
    expect(err.message).not.toContain('expired');
    expect(err.publicMessage).not.toMatch(/invalid_|abc/);
  });

  it('records the failure for audit without any token', async () => {
    sts.respondWith({ status: 400, body: '{"error":"invalid_grant"}' });
    const { exchange, response } = run([te()], up.url, { token: SUBJECT });
    await response.catch(() => undefined);
    expect(exchange.notes.tokenExchange).toEqual({
      grant: 'token-exchange',
      outcome: 'rejected',
      cached: false,
      errorCode: TokenExchangeErrorCode.Rejected,
    });
    expect(exchange.notes.rejectedBy).toBe('token-exchange');
    expect(exchange.notes.upstreamCredential).toBeUndefined();
  });
});
