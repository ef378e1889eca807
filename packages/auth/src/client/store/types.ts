/** The token store contract: JSON values under stable keys, plus a cross-process lock per key. */

export interface LockOptions {
  /** How long to wait for the lock, in ms. Default: 30000. */
  timeoutMs?: number | undefined;
  /** A lock older than this is considered abandoned even if its pid looks alive, in ms. Default: 600000. */
  staleMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

export interface TokenStore {
  /** Where secrets live: the OS keyring, or the AES-GCM encrypted file store. */
  readonly backend: 'keyring' | 'file';
  /** The state directory (key file, encrypted entries, lock files). */
  readonly dir: string;
  /** The stored value, or `undefined` when the key has no entry. */
  get(key: string): Promise<unknown>;
  /** Creates or replaces the entry atomically. */
  set(key: string, value: unknown): Promise<void>;
  /** Deletes the entry; `true` when one existed. */
  delete(key: string): Promise<boolean>;
  /**
   * Runs `fn` while holding the cross-process lock of `key` (an O_EXCL lock file holding the pid;
   * abandoned locks of dead processes are taken over). Not re-entrant.
   */
  withLock<T>(key: string, fn: () => Promise<T>, options?: LockOptions): Promise<T>;
}

const KEY_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

export function assertStoreKey(key: string): void {
  if (typeof key !== 'string' || !KEY_RE.test(key)) {
    throw new TypeError(`store key ${JSON.stringify(key)} must match ${KEY_RE}`);
  }
}

/** File-system safe form of a store key (`:` is the only character that needs escaping). */
export function fileNameOf(key: string): string {
  return encodeURIComponent(key);
}
