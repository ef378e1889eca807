import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import {
  resolveSecrets,
  type RunConfigInput,
  SecretUnavailableError,
  validateRunConfig,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'bastion-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cfg = (over: Partial<RunConfigInput>) =>
  validateRunConfig({
    schemaVersion: 1,
    name: 'secrets',
    remoteUrl: 'https://mcp.example.com/mcp',
    auth: {
      mode: 'oidc',
      issuer: 'https://idp.example.com',
      audience: 'bastion',
      resourceUrl: 'https://bastion.example.com/mcp',
    },
    ...over,
  });

async function failure(p: Promise<unknown>): Promise<SecretUnavailableError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SecretUnavailableError);
  expect((err as SecretUnavailableError).code).toBe('ERR_BASTION_SECRET_UNAVAILABLE');
  return err as SecretUnavailableError;
}

describe('resolveSecrets', () => {
  it('reads every reference from the environment', async () => {
    const s = await resolveSecrets(
      cfg({
        tokenExchange: {
          tokenUrl: 'https://sts.example.com/token',
          clientId: 'c',
          clientSecretEnv: 'STS_SECRET',
        },
        headerForward: { plain: { 'X-Tenant': 'a' }, fromEnv: { 'X-Api-Key': 'API_KEY' } },
      }),
      { STS_SECRET: 'sts-value\n', API_KEY: 'key-value' },
    );
    expect(s.tokenExchangeClientSecret).toBe('sts-value');
    expect(s.forwardedHeaders).toEqual({ 'X-Api-Key': 'key-value' });
    expect(s.upstreamBearerToken).toBeUndefined();
    expect(s.introspectionClientSecret).toBeUndefined();
  });

  it('reads file references and drops the trailing newline of mounted secrets', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, 'file-token\n');
    const s = await resolveSecrets(cfg({ upstreamAuth: { bearerTokenFile: file } }), {});
    expect(s.upstreamBearerToken).toBe('file-token');
  });

  it('keeps the lines of a private key for private_key_jwt', async () => {
    const file = join(dir, 'key.pem');
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIB\nAAAA\n-----END PRIVATE KEY-----';
    writeFileSync(file, `${pem}\n`);
    const s = await resolveSecrets(
      cfg({
        tokenExchange: {
          tokenUrl: 'https://sts.example.com/token',
          clientId: 'c',
          clientAuth: 'private_key_jwt',
          privateKeyFile: file,
        },
      }),
      {},
    );
    expect(s.tokenExchangePrivateKey).toBe(pem);
    expect(s.tokenExchangeClientSecret).toBeUndefined();
  });

  it('names the field and the variable of a missing secret, never a value', async () => {
    const err = await failure(
      resolveSecrets(cfg({ upstreamAuth: { bearerTokenEnv: 'UPSTREAM_TOKEN' } }), { OTHER: 'x' }),
    );
    expect(err.field).toBe('upstreamAuth.bearerTokenEnv');
    expect(err.message).toBe('upstreamAuth.bearerTokenEnv: environment variable UPSTREAM_TOKEN is not set');
  });

  it('refuses an empty variable and an empty or unreadable file', async () => {
    const empty = await failure(resolveSecrets(cfg({ upstreamAuth: { bearerTokenEnv: 'T' } }), { T: '  ' }));
    expect(empty.message).toMatch(/T is empty/);
    const emptyFile = join(dir, 'empty');
    writeFileSync(emptyFile, '\n');
    expect(
      (await failure(resolveSecrets(cfg({ upstreamAuth: { bearerTokenFile: emptyFile } }), {}))).message,
    ).toMatch(/is empty/);
    const missing = await failure(
      resolveSecrets(cfg({ upstreamAuth: { bearerTokenFile: join(dir, 'nope') } }), {}),
    );
    expect(missing.message).toMatch(/cannot be read \(ENOENT\)/);
  });

  it('refuses a forwarded header value with a line break (header injection) without echoing it', async () => {
    const err = await failure(
      resolveSecrets(cfg({ headerForward: { fromEnv: { 'X-Api-Key': 'API_KEY' } } }), {
        API_KEY: 'abc\r\nX-Evil: 1',
      }),
    );
    expect(err.field).toBe('headerForward.fromEnv.X-Api-Key');
    expect(err.message).not.toContain('abc');
    expect(err.message).not.toContain('X-Evil');
  });

  it('resolves the introspection client secret of OIDC auth', async () => {
    const s = await resolveSecrets(
      cfg({
        auth: {
          mode: 'oidc',
          issuer: 'https://idp.example.com',
          audience: 'bastion',
          resourceUrl: 'https://bastion.example.com/mcp',
          introspectionUrl: 'https://idp.example.com/introspect',
          clientId: 'bastion',
          clientSecretEnv: 'INTROSPECT',
        },
      }),
      { INTROSPECT: 'i-secret' },
    );
    expect(s.introspectionClientSecret).toBe('i-secret');
  });
});
