/**
 * openid-client `ClientAuth` for the configured method. Private keys in any accepted form are
 * imported once, as non-extractable CryptoKeys.
 */
import { KeyObject, type webcrypto } from 'node:crypto';
import { importJWK, importPKCS8, type JWK } from 'jose';
import * as oidc from 'openid-client';
import type { ResolvedOptions } from './options.js';

type CryptoKey = webcrypto.CryptoKey;

function isCryptoKey(value: unknown): value is CryptoKey {
  const ctor = (globalThis as { CryptoKey?: new () => unknown }).CryptoKey;
  return ctor !== undefined && value instanceof ctor;
}

async function importPrivateKey(options: ResolvedOptions): Promise<CryptoKey> {
  const key = options.privateKey;
  if (isCryptoKey(key)) return key;
  if (typeof key === 'string') return importPKCS8(key, options.privateKeyAlg ?? 'RS256');
  if (key instanceof KeyObject) {
    if (key.type !== 'private') throw new TypeError('"privateKey" must be a private key');
    const pem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
    return importPKCS8(pem, options.privateKeyAlg ?? 'RS256');
  }
  const jwk = key as JWK;
  const alg = options.privateKeyAlg ?? jwk.alg;
  if (!alg) throw new TypeError('"privateKeyAlg" is required when the private JWK has no "alg"');
  const imported = await importJWK(jwk, alg);
  if (!isCryptoKey(imported)) throw new TypeError('"privateKey" must be an asymmetric private key');
  return imported;
}

/** Build the client authentication and client metadata for openid-client. */
export async function buildClientAuth(
  options: ResolvedOptions,
): Promise<{ auth: oidc.ClientAuth; metadata: Partial<oidc.ClientMetadata> }> {
  switch (options.clientAuth) {
    case 'client_secret_basic':
      return {
        auth: oidc.ClientSecretBasic(options.clientSecret),
        metadata: { token_endpoint_auth_method: 'client_secret_basic' },
      };
    case 'client_secret_post':
      return {
        auth: oidc.ClientSecretPost(options.clientSecret),
        metadata: { token_endpoint_auth_method: 'client_secret_post' },
      };
    case 'private_key_jwt': {
      const key = await importPrivateKey(options);
      const kid = options.privateKeyId ?? (options.privateKey as JWK | undefined)?.kid;
      return {
        auth: oidc.PrivateKeyJwt(kid ? { key, kid } : key),
        metadata: { token_endpoint_auth_method: 'private_key_jwt' },
      };
    }
    default:
      return { auth: oidc.None(), metadata: { token_endpoint_auth_method: 'none' } };
  }
}
