/**
 * `bastion run` with the headless assertion grants through the built binary, against the testkit
 * IdP (oidc-provider) and an upstream that verifies tokens for real: client credentials with
 * private_key_jwt, and the RFC 7523 JWT-bearer grant with a workload JWT from the token minter.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { JWT_BEARER_GRANT, startTokenMinter, type TokenMinter } from '@bastion-mcp/testkit';
import { createSandbox, ensureBuilt, printedUrl, type Sandbox } from './helpers/cli.js';
import { textOf, withClient } from './helpers/mcp.js';
import { type ProtectedRemote, startProtectedRemote } from './helpers/oauth.js';

let remote: ProtectedRemote;
let minter: TokenMinter;
let sb: Sandbox;

beforeAll(async () => {
  ensureBuilt();
  remote = await startProtectedRemote();
  minter = await startTokenMinter();
  remote.idp.assertionGrants.trustIssuer(minter.issuer, minter.jwksUri);
  sb = createSandbox();
});

afterAll(async () => {
  sb?.cleanup();
  await minter?.close();
  await remote?.close();
});

const echo = (url: string, text: string) =>
  withClient(url, async (c) => textOf(await c.callTool({ name: 'echo', arguments: { text } })));

describe('client credentials with private_key_jwt', () => {
  it('logs in with a signed client assertion; the key stays in its file', async () => {
    const jwk = remote.idp.clients.exchangerJwt.privateJwk!;
    const keyFile = join(sb.dir, 'client-key.json');
    writeFileSync(keyFile, JSON.stringify(jwk), { mode: 0o600 });
    const r = await sb.run([
      'run',
      remote.up.url,
      '--name',
      'pkjwt',
      '--client-credentials',
      '--client-id',
      remote.idp.clients.exchangerJwt.clientId,
      '--client-assertion-key-file',
      keyFile,
    ]);
    expect(r.code).toBe(0);
    const request = remote.idp.requests.filter((q) => q.grantType === 'client_credentials').at(-1)!;
    expect(request.clientAuthMethod).toBe('private_key_jwt');
    expect(await echo(printedUrl(r.stdout), 'signed')).toBe('signed');
    const def = readFileSync(join(sb.bastionHome, 'workloads', 'pkjwt', 'workload.json'), 'utf8');
    expect(JSON.parse(def).auth).toMatchObject({
      grant: 'client_credentials',
      clientAssertionKeyFile: keyFile,
    });
    expect(def).not.toContain(String(jwk.d));
    expect((await sb.run(['rm', 'pkjwt'])).code).toBe(0);
  });
});

describe('JWT-bearer grant (workload identity)', () => {
  let clientId: string;
  const assertionFile = () => join(sb.dir, 'workload.jwt');
  const mint = (expiresInSeconds = 300) =>
    minter.mint({
      claims: { sub: 'system:serviceaccount:mcp:agent', aud: remote.idp.issuer },
      expiresInSeconds,
    });

  beforeAll(async () => {
    const res = await fetch(remote.idp.registrationEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_types: [JWT_BEARER_GRANT],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'none',
      }),
    });
    clientId = ((await res.json()) as { client_id: string }).client_id;
  });

  it('exchanges the workload JWT file for a token; the proxy acts as the workload', async () => {
    writeFileSync(assertionFile(), await mint(), { mode: 0o600 });
    const r = await sb.run([
      'run',
      remote.up.url,
      '--name',
      'wif',
      '--jwt-bearer-assertion-file',
      assertionFile(),
      '--client-id',
      clientId,
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('Sign in');
    const before = remote.accepted.length;
    expect(await echo(printedUrl(r.stdout), 'workload')).toBe('workload');
    expect(remote.accepted.slice(before)[0]).toMatchObject({
      sub: 'system:serviceaccount:mcp:agent',
      aud: remote.up.url,
    });
    expect((await sb.run(['rm', 'wif'])).code).toBe(0);
  });

  it('an expired workload JWT fails the run with the AS verdict, after a single request', async () => {
    writeFileSync(assertionFile(), await mint(-60), { mode: 0o600 });
    const before = remote.idp.requests.filter((q) => q.grantType === JWT_BEARER_GRANT).length;
    const r = await sb.run([
      'run',
      remote.up.url,
      '--name',
      'wif-expired',
      '--jwt-bearer-assertion-file',
      assertionFile(),
      '--client-id',
      clientId,
    ]);
    expect(r.code).toBe(5);
    const lines = r.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^bastion: .*JWT-bearer token request was rejected with invalid_grant/);
    expect(remote.idp.requests.filter((q) => q.grantType === JWT_BEARER_GRANT).length).toBe(before + 1);
    expect(remote.idp.requests.at(-1)!.grantType).toBe(JWT_BEARER_GRANT);
  });
});

describe('flag checks', () => {
  const url = 'https://example.com/mcp';
  const cases: Array<[string, string[], RegExp]> = [
    ['two grants', ['--jwt-bearer-assertion-file', 'a', '--device-code'], /are exclusive/],
    [
      'a key without a grant',
      ['--client-id', 'c', '--client-assertion-key-file', 'k'],
      /works with --client-credentials/,
    ],
    [
      'a key without a client id',
      ['--client-credentials', '--client-assertion-key-file', 'k'],
      /needs --client-id/,
    ],
    [
      'a key and a secret',
      [
        '--client-credentials',
        '--client-id',
        'c',
        '--client-secret',
        's',
        '--client-assertion-key-file',
        'k',
      ],
      /exclusive/,
    ],
    ['an alg without a key', ['--client-assertion-alg', 'ES256'], /need --client-assertion-key-file/],
    [
      'IdP flags without the ID token',
      ['--idp-issuer', 'https://idp.example.com'],
      /need --idp-id-token-file/,
    ],
    [
      'an ID token without the IdP',
      ['--idp-id-token-file', 'id.jwt', '--client-id', 'c'],
      /--idp-issuer or --idp-token-endpoint/,
    ],
    [
      'an ID token without the AS client',
      ['--idp-id-token-file', 'id.jwt', '--idp-issuer', 'https://idp.example.com', '--idp-client-id', 'b'],
      /needs --client-id/,
    ],
  ];
  it.each(cases)('%s', async (_label, flags, message) => {
    const r = await sb.run(['run', url, ...flags]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });
});
