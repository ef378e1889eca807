/**
 * Secrets are never in a RunConfig: it names environment variables or files that hold them. This
 * turns those references into values, once, at start. A missing or empty secret is an error naming
 * the field and the variable or file — never the value.
 */
import { readFile as fsReadFile } from 'node:fs/promises';
import type { RunConfig } from '../config/schema.js';
import { SecretUnavailableError } from '../errors.js';

/** The secret values a RunConfig references, resolved. Keep in memory only; never log. */
export interface ResolvedSecrets {
  /** Client secret for token introspection (`auth.clientSecretEnv` / `auth.clientSecretFile`). */
  readonly introspectionClientSecret: string | undefined;
  /** STS client secret (`tokenExchange.clientSecretEnv` / `clientSecretFile`). */
  readonly tokenExchangeClientSecret: string | undefined;
  /** PKCS#8 PEM for `private_key_jwt` (`tokenExchange.privateKeyEnv` / `privateKeyFile`). */
  readonly tokenExchangePrivateKey: string | undefined;
  /** Static upstream bearer token (`upstreamAuth.bearerTokenEnv` / `bearerTokenFile`). */
  readonly upstreamBearerToken: string | undefined;
  /** `headerForward.fromEnv` resolved: header name → value. */
  readonly forwardedHeaders: Readonly<Record<string, string>>;
}

/** Environment the secrets are read from (the app passes `process.env`). */
export type SecretEnv = Readonly<Record<string, string | undefined>>;
/** Reads a secret file (the app passes `fs.promises.readFile`); tests pass their own. */
export type SecretFileReader = (path: string) => Promise<string | Buffer>;

const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

function fromEnv(env: SecretEnv, field: string, name: string): string {
  const value = env[name];
  if (value === undefined) throw new SecretUnavailableError(field, `environment variable ${name} is not set`);
  const trimmed = value.trim();
  if (trimmed === '') throw new SecretUnavailableError(field, `environment variable ${name} is empty`);
  return trimmed;
}

async function fromFile(readFile: SecretFileReader, field: string, path: string, keepLines: boolean) {
  let raw: string | Buffer;
  try {
    raw = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException)?.code ?? 'error';
    throw new SecretUnavailableError(field, `file ${path} cannot be read (${code})`);
  }
  // Mounted secrets often end with a newline; PEM keys keep their inner lines.
  const text = (typeof raw === 'string' ? raw : raw.toString('utf8')).trim();
  if (text === '') throw new SecretUnavailableError(field, `file ${path} is empty`);
  if (!keepLines && CONTROL.test(text)) {
    throw new SecretUnavailableError(field, `file ${path} holds more than one line or control characters`);
  }
  return text;
}

async function pick(
  env: SecretEnv,
  readFile: SecretFileReader,
  base: string,
  envKey: string,
  fileKey: string,
  section: Record<string, unknown> | undefined,
  keepLines = false,
): Promise<string | undefined> {
  const envName = section?.[envKey];
  const filePath = section?.[fileKey];
  if (typeof envName === 'string') {
    const v = fromEnv(env, `${base}.${envKey}`, envName);
    if (!keepLines && CONTROL.test(v)) {
      throw new SecretUnavailableError(
        `${base}.${envKey}`,
        `environment variable ${envName} holds control characters or line breaks`,
      );
    }
    return v;
  }
  if (typeof filePath === 'string') return fromFile(readFile, `${base}.${fileKey}`, filePath, keepLines);
  return undefined;
}

/**
 * Resolve every secret the RunConfig references.
 *
 * @param env where `*Env` references are looked up (pass `process.env` from an app).
 * @param readFile how `*File` references are read. Default `fs.promises.readFile`.
 * @throws {SecretUnavailableError} `ERR_BASTION_SECRET_UNAVAILABLE` naming the field and the variable or file.
 */
export async function resolveSecrets(
  config: RunConfig,
  env: SecretEnv,
  readFile: SecretFileReader = (p) => fsReadFile(p),
): Promise<ResolvedSecrets> {
  if (env === null || typeof env !== 'object') throw new TypeError('"env" must be an object');
  if (typeof readFile !== 'function') throw new TypeError('"readFile" must be a function');
  const auth = config.auth.mode === 'oidc' ? config.auth : undefined;
  const te = config.tokenExchange;
  const forwardedHeaders: Record<string, string> = {};
  for (const [header, name] of Object.entries(config.headerForward?.fromEnv ?? {})) {
    const field = `headerForward.fromEnv.${header}`;
    const value = fromEnv(env, field, name);
    if (CONTROL.test(value)) {
      throw new SecretUnavailableError(
        field,
        `environment variable ${name} holds control characters or line breaks`,
      );
    }
    forwardedHeaders[header] = value;
  }
  return Object.freeze({
    introspectionClientSecret: await pick(env, readFile, 'auth', 'clientSecretEnv', 'clientSecretFile', auth),
    tokenExchangeClientSecret:
      te && te.clientAuth !== 'private_key_jwt'
        ? await pick(env, readFile, 'tokenExchange', 'clientSecretEnv', 'clientSecretFile', te)
        : undefined,
    tokenExchangePrivateKey:
      te && te.clientAuth === 'private_key_jwt'
        ? await pick(env, readFile, 'tokenExchange', 'privateKeyEnv', 'privateKeyFile', te, true)
        : undefined,
    upstreamBearerToken: await pick(
      env,
      readFile,
      'upstreamAuth',
      'bearerTokenEnv',
      'bearerTokenFile',
      config.upstreamAuth,
    ),
    forwardedHeaders: Object.freeze(forwardedHeaders),
  });
}
