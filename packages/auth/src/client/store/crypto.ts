/**
 * AES-256-GCM sealing of store entries. The key is 32 random bytes in a file (mode 0600) next to the
 * data; each entry is bound to its store key through the additional authenticated data, so moving
 * an encrypted file to another name makes it undecryptable.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { OAuthClientError, OAuthClientErrorCode } from '../errors.js';

const ALG = 'aes-256-gcm';
const AAD_PREFIX = 'bastion-token-store:v1:';

export interface SealedEntry {
  v: 1;
  alg: 'A256GCM';
  iv: string;
  ct: string;
  tag: string;
}

export function seal(key: Buffer, storeKey: string, plaintext: string): SealedEntry {
  const iv = randomBytes(12);
  const cipher = createCipheriv(ALG, key, iv);
  cipher.setAAD(Buffer.from(AAD_PREFIX + storeKey, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return {
    v: 1,
    alg: 'A256GCM',
    iv: iv.toString('base64url'),
    ct: ct.toString('base64url'),
    tag: cipher.getAuthTag().toString('base64url'),
  };
}

export function unseal(key: Buffer, storeKey: string, sealed: unknown): string {
  const s = sealed as Partial<SealedEntry> | null;
  if (s?.v !== 1 || s.alg !== 'A256GCM' || !s.iv || !s.ct || !s.tag) {
    throw new OAuthClientError(
      OAuthClientErrorCode.Store,
      `The token store entry "${storeKey}" has an unknown format`,
    );
  }
  try {
    const decipher = createDecipheriv(ALG, key, Buffer.from(s.iv, 'base64url'));
    decipher.setAAD(Buffer.from(AAD_PREFIX + storeKey, 'utf8'));
    decipher.setAuthTag(Buffer.from(s.tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(s.ct, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  } catch (cause) {
    throw new OAuthClientError(
      OAuthClientErrorCode.Store,
      `The token store entry "${storeKey}" cannot be decrypted (tampered, or the key file changed)`,
      { cause },
    );
  }
}
