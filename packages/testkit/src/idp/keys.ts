import { generateKeyPairSync } from 'node:crypto';
import type { JWK } from 'jose';

export interface SigningKey {
  kid: string;
  /** Private JWK (what oidc-provider's `jwks` configuration takes). */
  privateJwk: JWK;
  /** Public JWK as served at the JWKS endpoint. */
  publicJwk: JWK;
}

/** A fresh RS256 signing key with a readable kid (`idp-rs256-<n>`). */
export function generateSigningKey(generation: number): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = `idp-rs256-${generation}`;
  const meta = { kid, alg: 'RS256', use: 'sig' };
  return {
    kid,
    privateJwk: { ...(privateKey.export({ format: 'jwk' }) as JWK), ...meta },
    publicJwk: { ...(publicKey.export({ format: 'jwk' }) as JWK), ...meta },
  };
}

/** An ES256 key pair for a `private_key_jwt` client. */
export function generateClientKey(kid: string): { privateJwk: JWK; publicJwk: JWK } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const meta = { kid, alg: 'ES256', use: 'sig' };
  return {
    privateJwk: { ...(privateKey.export({ format: 'jwk' }) as JWK), ...meta },
    publicJwk: { ...(publicKey.export({ format: 'jwk' }) as JWK), ...meta },
  };
}
