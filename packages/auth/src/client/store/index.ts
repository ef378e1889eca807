/** `createTokenStore`: the OS keyring when one answers, else the encrypted file store. */
import { isAbsolute } from 'node:path';
import { createFileStore } from './file-store.js';
import { createKeyringStore, loadKeyring } from './keyring-store.js';
import type { TokenStore } from './types.js';

export interface TokenStoreOptions {
  /** Absolute state directory (created 0700): key file, encrypted entries, lock files. Required. */
  dir: string;
  /** Keyring service name. Default: `'bastion'`. */
  serviceName?: string | undefined;
  /**
   * Try the OS keyring first. Default: true. When the optional `@napi-rs/keyring` cannot load or no
   * keyring service answers (headless Linux), the encrypted file store is used.
   */
  useKeyring?: boolean | undefined;
}

/**
 * Opens the token store.
 *
 * @example
 * const store = await createTokenStore({ dir: '/home/me/.local/state/bastion/tokens' });
 * store.backend; // 'keyring' | 'file'
 */
export async function createTokenStore(options: TokenStoreOptions): Promise<TokenStore> {
  if (!options || typeof options.dir !== 'string' || !isAbsolute(options.dir)) {
    throw new TypeError('"dir" must be an absolute directory path');
  }
  const serviceName = options.serviceName ?? 'bastion';
  if (typeof serviceName !== 'string' || serviceName === '')
    throw new TypeError('"serviceName" must be a non-empty string');
  if (options.useKeyring ?? true) {
    const Entry = await loadKeyring(serviceName);
    if (Entry) return createKeyringStore(options.dir, serviceName, Entry);
  }
  return createFileStore(options.dir);
}
