/**
 * `private_key_jwt` client authentication (RFC 7523 §2.2, OIDC Core §9): the client proves its
 * identity with a short-lived JWT signed by its private key. openid-client's `PrivateKeyJwt` builds
 * and signs the assertion per request (`iss` = `sub` = client id, `aud` = the AS issuer, `exp` 60 s,
 * a fresh `jti`); this module loads the key from a file — at every token request, so a rotated key
 * file is picked up and the key never enters the token store.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { importPKCS8 } from 'jose';
import { type ClientAuth, PrivateKeyJwt } from 'openid-client';
import type { ClientAssertionKeySpec } from './credentials.js';
import { OAuthClientError, OAuthClientErrorCode } from './errors.js';

/** JWS algorithms accepted for client assertions (asymmetric only). */
export const CLIENT_ASSERTION_ALGS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
export type ClientAssertionAlg = (typeof CLIENT_ASSERTION_ALGS)[number];

/** Throws a `TypeError` naming `option` when `spec` is not a usable key specification. */
export function validateClientAssertionKey(
  spec: unknown,
  option: string,
): asserts spec is ClientAssertionKeySpec {
  if (!spec || typeof spec !== 'object') throw new TypeError(`"${option}" must be an object with "keyFile"`);
  const { keyFile, alg, kid } = spec as Record<string, unknown>;
  if (typeof keyFile !== 'string' || keyFile === '')
    throw new TypeError(`"${option}.keyFile" must be the path of a private key file`);
  if (alg !== undefined && !(CLIENT_ASSERTION_ALGS as readonly unknown[]).includes(alg)) {
    throw new TypeError(`"${option}.alg" must be one of ${CLIENT_ASSERTION_ALGS.join(', ')}`);
  }
  if (kid !== undefined && (typeof kid !== 'string' || kid === ''))
    throw new TypeError(`"${option}.kid" must be a non-empty string`);
}

function keyError(spec: ClientAssertionKeySpec, reason: string, cause?: unknown): OAuthClientError {
  return new OAuthClientError(
    OAuthClientErrorCode.ClientAssertionKey,
    `The client assertion key file ${spec.keyFile} ${reason}`,
    { cause },
  );
}

/** The default algorithm of a key, from its type and curve. */
function defaultAlg(key: KeyObject): ClientAssertionAlg | undefined {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'RS256';
    case 'rsa-pss':
      return 'PS256';
    case 'ed25519':
      return 'EdDSA';
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1') return 'ES256';
      if (curve === 'secp384r1') return 'ES384';
      if (curve === 'secp521r1') return 'ES512';
      return undefined;
    }
    default:
      return undefined;
  }
}

function parseKeyFile(
  spec: ClientAssertionKeySpec,
  text: string,
): { key: KeyObject; jwkAlg?: string; jwkKid?: string } {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let jwk: Record<string, unknown>;
    try {
      jwk = JSON.parse(trimmed) as Record<string, unknown>;
    } catch (cause) {
      throw keyError(spec, 'is not valid JSON (expected a JWK or a PEM private key)', cause);
    }
    if (typeof jwk['d'] !== 'string')
      throw keyError(spec, 'holds a public JWK; a private key (with "d") is needed');
    try {
      return {
        key: createPrivateKey({ key: jwk as never, format: 'jwk' }),
        jwkAlg: typeof jwk['alg'] === 'string' ? jwk['alg'] : undefined,
        jwkKid: typeof jwk['kid'] === 'string' ? jwk['kid'] : undefined,
      };
    } catch (cause) {
      throw keyError(spec, 'holds a JWK that is not a usable private key', cause);
    }
  }
  if (!trimmed.includes('PRIVATE KEY-----')) {
    throw keyError(spec, 'is not a PEM private key or a JWK');
  }
  if (trimmed.includes('ENCRYPTED PRIVATE KEY')) {
    throw keyError(spec, 'holds an encrypted key; decrypt it first (e.g. openssl pkcs8 -nocrypt)');
  }
  try {
    return { key: createPrivateKey(trimmed) };
  } catch (cause) {
    throw keyError(spec, 'holds a PEM block that is not a usable private key', cause);
  }
}

/**
 * Reads and imports the signing key of `spec`. Accepts PKCS#8, SEC1 (`EC PRIVATE KEY`) and PKCS#1
 * (`RSA PRIVATE KEY`) PEM, or a private JWK.
 *
 * @throws OAuthClientError `ERR_BASTION_OAUTH_CLIENT_ASSERTION_KEY` (message names the file, never key material).
 */
export async function loadClientAssertionKey(spec: ClientAssertionKeySpec): Promise<{
  key: Awaited<ReturnType<typeof importPKCS8>>;
  kid: string | undefined;
  alg: ClientAssertionAlg;
}> {
  let text: string;
  try {
    text = await readFile(spec.keyFile, 'utf8');
  } catch (cause) {
    throw keyError(spec, `cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, cause);
  }
  const { key, jwkAlg, jwkKid } = parseKeyFile(spec, text);
  if (key.type !== 'private') throw keyError(spec, 'does not hold a private key');
  const alg = (spec.alg ?? jwkAlg ?? defaultAlg(key)) as ClientAssertionAlg | undefined;
  if (!alg || !(CLIENT_ASSERTION_ALGS as readonly string[]).includes(alg)) {
    throw keyError(
      spec,
      `holds a ${key.asymmetricKeyType ?? 'unknown'} key without a supported signing algorithm; pass one of ${CLIENT_ASSERTION_ALGS.join(', ')}`,
    );
  }
  const pkcs8 = key.export({ format: 'pem', type: 'pkcs8' }).toString();
  try {
    return { key: await importPKCS8(pkcs8, alg), kid: spec.kid ?? jwkKid, alg };
  } catch (cause) {
    throw keyError(spec, `holds a ${key.asymmetricKeyType} key that cannot sign ${alg}`, cause);
  }
}

/** openid-client client authentication signing assertions with the key of `spec` (loaded now). */
export async function privateKeyJwtAuth(spec: ClientAssertionKeySpec): Promise<ClientAuth> {
  const { key, kid } = await loadClientAssertionKey(spec);
  return PrivateKeyJwt(kid ? { key, kid } : key);
}
