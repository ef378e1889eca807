/**
 * DPoP (RFC 9449) through the built binary: the testkit IdP (oidc-provider, DPoP on) issues
 * DPoP-bound tokens, and the remote is a testkit MCP upstream that checks every proof with jose
 * (scheme, signature, htm, htu, iat, jti replay, ath, cnf.jkt, its own nonce when it asks for one).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createDPoPResourceVerifier,
  type DPoPResourceVerifier,
  freePort,
  type McpUpstream,
  respondDPoPFailure,
  startMcpUpstream,
  startTestIdp,
  type TestIdp,
} from '@bastion-mcp/testkit';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { createSandbox, ensureBuilt, printedUrl, type Sandbox } from './helpers/cli.js';
import { textOf, withClient } from './helpers/mcp.js';
import { type ProtectedRemote, startProtectedRemote, waitForOutput } from './helpers/oauth.js';

interface DPoPRemote {
  idp: TestIdp;
  up: McpUpstream;
  verifier: DPoPResourceVerifier;
  close(): Promise<void>;
}

/** The nonce the DPoP remote demands (undefined: none). A function: tests change it. */
let rsNonce: () => string | undefined = () => undefined;

async function startDPoPRemote(): Promise<DPoPRemote> {
  const idp = await startTestIdp({ accessTokenTtlSeconds: 3600 });
  const jwks = createRemoteJWKSet(new URL(idp.jwksUri));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/mcp`;
  const prm = `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`;
  const verifier = createDPoPResourceVerifier({
    resourceUrl: url,
    nonce: () => rsNonce(),
    verifyAccessToken: async (token) =>
      (await jwtVerify(token, jwks, { issuer: idp.issuer, audience: url })).payload,
  });
  const up = await startMcpUpstream({
    port,
    authorizationServers: [idp.issuer],
    scopesSupported: ['mcp:tools'],
    onRequest: async (req, res) => {
      if (req.path.startsWith('/.well-known/')) return false;
      if (req.headers.authorization === undefined) {
        res.statusCode = 401;
        res.setHeader('www-authenticate', `DPoP algs="ES256", Bearer resource_metadata="${prm}"`);
        res.end();
        return true;
      }
      const result = await verifier.check(req);
      if (result.ok) return false;
      respondDPoPFailure(res, result, verifier, { resourceMetadata: prm });
      return true;
    },
  });
  idp.addResource(url, { format: 'jwt', scopes: ['mcp:tools'] });
  return {
    idp,
    up,
    verifier,
    async close() {
      await up.close();
      await idp.close();
    },
  };
}

let remote: DPoPRemote;
let sb: Sandbox;

beforeAll(async () => {
  ensureBuilt();
  remote = await startDPoPRemote();
  sb = createSandbox();
});

afterAll(async () => {
  sb?.cleanup();
  await remote?.close();
});

/** `bastion run` (detached) with the login completed as alice; returns the local URL. */
async function runWithLogin(idp: TestIdp, args: string[]): Promise<string> {
  let stderr = '';
  const done = sb.run([...args, '--no-browser', '--callback-port', String(await freePort())], {
    onStderr: (_c, all) => (stderr = all),
  });
  const [, url] = await waitForOutput(() => stderr, /^\s+(http:\/\/127\.0\.0\.1:\d+\/\S*auth\S*)$/m);
  await idp.authorize(url as string, { username: 'alice', deliver: true });
  const result = await done;
  expect([result.code, result.stderr]).toEqual([0, expect.any(String)]);
  return printedUrl(result.stdout);
}

function echo(url: string, text: string): Promise<string> {
  return withClient(url, async (c) => textOf(await c.callTool({ name: 'echo', arguments: { text } })));
}

/** Upstream requests that carried credentials, since index `from`. */
function authenticated(up: McpUpstream, from: number) {
  return up.requests.slice(from).filter((r) => r.headers.authorization !== undefined);
}

describe('bastion run against a remote that requires DPoP', () => {
  let url: string;
  let nodpopUrl: string;

  it('presents the DPoP-bound token with a fresh, valid proof on every upstream request', async () => {
    url = await runWithLogin(remote.idp, ['run', remote.up.url, '--name', 'dpop']);
    const from = remote.up.requests.length;
    const accepted = remote.verifier.acceptedJtis.length;
    expect(await echo(url, 'bound')).toBe('bound');
    const sent = authenticated(remote.up, from);
    expect(sent.length).toBeGreaterThanOrEqual(3); // initialize, initialized, tools/call (+ GET stream)
    for (const r of sent) {
      expect(r.headers.authorization).toMatch(/^DPoP eyJ/);
      expect(typeof r.headers.dpop).toBe('string');
    }
    const jtis = sent.map((r) => decodeJwt(r.headers.dpop as string).jti);
    expect(new Set(jtis).size).toBe(jtis.length);
    // Every proof passed the remote's checks (a reused or wrong one would have been refused).
    expect(remote.verifier.acceptedJtis.slice(accepted)).toEqual(jtis);
    const methods = sent.map((r) => decodeJwt(r.headers.dpop as string).htm);
    expect(methods).toEqual(sent.map((r) => r.method));
    // The key is a secret of the token store: the workload definition only says how to log in.
    const def = readFileSync(join(sb.bastionHome, 'workloads', 'dpop', 'workload.json'), 'utf8');
    expect(def).not.toMatch(/"d"|privateJwk|eyJ/);
    // status names the binding, never the token or the key.
    const human = await sb.run(['status', 'dpop']);
    expect(human.stdout).toMatch(/Login:\s+authorization_code at \S+ · .*DPoP-bound token/);
    const json = JSON.parse((await sb.run(['status', 'dpop', '--json'])).stdout);
    expect(json.login).toMatchObject({ issuer: remote.idp.issuer, tokenBinding: 'dpop' });
    expect(JSON.stringify(json) + human.stdout).not.toMatch(/eyJ|"d":/);
  });

  it('a proof the proxy sent cannot be replayed: the remote refuses it', async () => {
    const last = authenticated(remote.up, 0).at(-1)!;
    const replay = await fetch(remote.up.url, {
      method: last.method,
      headers: {
        authorization: last.headers.authorization as string,
        dpop: last.headers.dpop as string,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: last.method === 'POST' ? last.rawBody : undefined,
    });
    expect(replay.status).toBe(401);
    expect(replay.headers.get('www-authenticate')).toContain('invalid_dpop_proof');
    await replay.body?.cancel();
  });

  it('retries once with the nonce the remote demands, remembers it, and follows a new one', async () => {
    const refreshes = () => remote.idp.requests.filter((r) => r.grantType === 'refresh_token').length;
    const refreshed = refreshes();
    rsNonce = () => 'rs-nonce-1';
    const failures = remote.verifier.failures.length;
    expect(await echo(url, 'nonce')).toBe('nonce');
    expect(remote.verifier.failures.slice(failures).map((f) => f.error)).toEqual(['use_dpop_nonce']);
    // The nonce retry is its own: the token was not refreshed for it.
    expect(refreshes()).toBe(refreshed);
    // Remembered: the next session needs no challenge.
    const from = remote.up.requests.length;
    expect(await echo(url, 'again')).toBe('again');
    expect(remote.verifier.failures.length).toBe(failures + 1);
    for (const r of authenticated(remote.up, from)) {
      expect(decodeJwt(r.headers.dpop as string).nonce).toBe('rs-nonce-1');
    }
    // The remote rotates its nonce: one more challenge, then the new one is used.
    rsNonce = () => 'rs-nonce-2';
    expect(await echo(url, 'rotated')).toBe('rotated');
    expect(remote.verifier.failures.slice(failures + 1).map((f) => f.error)).toEqual(['use_dpop_nonce']);
    expect(refreshes()).toBe(refreshed);
    rsNonce = () => undefined;
  });

  it('does not loop on a remote that asks for a new nonce every time', async () => {
    let n = 0;
    rsNonce = () => `moving-${n++}`;
    const from = remote.up.requests.length;
    try {
      await expect(echo(url, 'never')).rejects.toThrow();
      // One nonce retry for the request, and one more for the retry after the 401 refresh: bounded.
      const sent = authenticated(remote.up, from);
      expect(sent.length).toBeGreaterThanOrEqual(2);
      expect(sent.length).toBeLessThanOrEqual(4);
    } finally {
      rsNonce = () => undefined;
    }
    expect(await echo(url, 'recovered')).toBe('recovered');
  });

  it('--dpop never logs in for a Bearer token, which this remote refuses', async () => {
    const local = await runWithLogin(remote.idp, [
      'run',
      remote.up.url,
      '--name',
      'nodpop',
      '--dpop',
      'never',
    ]);
    nodpopUrl = local;
    const failures = remote.verifier.failures.length;
    await expect(echo(local, 'x')).rejects.toThrow();
    expect(remote.verifier.failures.slice(failures)[0]).toMatchObject({
      error: 'invalid_token',
      reason: 'the token is not presented with the DPoP scheme',
    });
    const def = JSON.parse(
      readFileSync(join(sb.bastionHome, 'workloads', 'nodpop', 'workload.json'), 'utf8'),
    ) as { auth: { dpop?: string } };
    expect(def.auth.dpop).toBe('never');
  });

  it('bastion login --dpop auto switches the workload to a DPoP-bound token (the running proxy picks it up)', async () => {
    const local = nodpopUrl;
    let stderr = '';
    const done = sb.run(['login', 'nodpop', '--no-browser', '--dpop', 'auto'], {
      onStderr: (_c, all) => (stderr = all),
    });
    const [, authorize] = await waitForOutput(() => stderr, /^\s+(http:\/\/127\.0\.0\.1:\d+\/\S*auth\S*)$/m);
    await remote.idp.authorize(authorize as string, { username: 'alice', deliver: true });
    expect((await done).code).toBe(0);
    const def = JSON.parse(
      readFileSync(join(sb.bastionHome, 'workloads', 'nodpop', 'workload.json'), 'utf8'),
    ) as { auth: { dpop?: string } };
    expect(def.auth.dpop).toBe('auto');
    const from = remote.up.requests.length;
    expect(await echo(local, 'now bound')).toBe('now bound');
    for (const r of authenticated(remote.up, from)) expect(r.headers.authorization).toMatch(/^DPoP /);
  });

  it('rejects an unknown --dpop mode before doing anything', async () => {
    const r = await sb.run(['run', remote.up.url, '--name', 'bad', '--dpop', 'sometimes']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--dpop.*sometimes|Allowed choices are auto, always, never/);
  });
});

describe('bastion run against a Bearer-only remote behind a DPoP-capable IdP', () => {
  let bearer: ProtectedRemote;

  beforeAll(async () => {
    bearer = await startProtectedRemote();
  });
  afterAll(() => bearer?.close());

  it('keeps presenting a Bearer token without any DPoP header', async () => {
    expect(bearer.idp.issuer).toBeTruthy();
    const local = await runWithLogin(bearer.idp, ['run', bearer.up.url, '--name', 'plain']);
    const from = bearer.up.requests.length;
    expect(await echo(local, 'plain')).toBe('plain');
    const sent = authenticated(bearer.up, from);
    expect(sent.length).toBeGreaterThan(0);
    for (const r of sent) {
      expect(r.headers.authorization).toMatch(/^Bearer eyJ/);
      expect(r.headers.dpop).toBeUndefined();
    }
  });
});
