/**
 * OS keyring store through the optional `@napi-rs/keyring` (macOS Keychain, Windows Credential
 * Manager, Linux Secret Service). On Linux the entry is pinned to the Secret Service: the kernel
 * keyring fallback of the library does not survive a reboot, which would silently lose refresh
 * tokens. Locks still use lock files in the state directory.
 */
import { OAuthClientError, OAuthClientErrorCode } from '../errors.js';
import { ensurePrivateDir } from './fs-util.js';
import { lockPathOf } from './file-store.js';
import { acquireLock } from './lock.js';
import { assertStoreKey, type LockOptions, type TokenStore } from './types.js';

interface AsyncEntryLike {
  getPassword(): Promise<string | null>;
  setPassword(password: string): Promise<void>;
  deletePassword(): Promise<boolean>;
}
type AsyncEntryCtor = new (
  service: string,
  account: string,
  options?: { linux?: { store?: 'secret-service' | 'keyutils' } },
) => AsyncEntryLike;

const PROBE_ACCOUNT = '__bastion_probe__';

/** Loads the keyring module and checks a keyring service answers; `undefined` when not usable. */
export async function loadKeyring(serviceName: string): Promise<AsyncEntryCtor | undefined> {
  let ctor: AsyncEntryCtor | undefined;
  try {
    const moduleName = '@napi-rs/keyring';
    const mod = (await import(moduleName)) as {
      AsyncEntry?: AsyncEntryCtor;
      default?: { AsyncEntry?: AsyncEntryCtor };
    };
    ctor = mod.AsyncEntry ?? mod.default?.AsyncEntry;
  } catch {
    return undefined;
  }
  if (!ctor) return undefined;
  try {
    await new ctor(serviceName, PROBE_ACCOUNT, { linux: { store: 'secret-service' } }).getPassword();
    return ctor;
  } catch {
    return undefined;
  }
}

export async function createKeyringStore(
  dir: string,
  serviceName: string,
  Entry: AsyncEntryCtor,
): Promise<TokenStore> {
  await ensurePrivateDir(dir);
  const entry = (k: string) => new Entry(serviceName, k, { linux: { store: 'secret-service' } });
  const fail = (what: string, k: string, cause: unknown) =>
    new OAuthClientError(OAuthClientErrorCode.Store, `Cannot ${what} the keyring entry "${k}"`, { cause });
  return {
    backend: 'keyring',
    dir,
    async get(k: string): Promise<unknown> {
      assertStoreKey(k);
      let text: string | null;
      try {
        text = await entry(k).getPassword();
      } catch (cause) {
        throw fail('read', k, cause);
      }
      if (text === null) return undefined;
      try {
        return JSON.parse(text);
      } catch (cause) {
        throw new OAuthClientError(OAuthClientErrorCode.Store, `The keyring entry "${k}" is corrupt`, {
          cause,
        });
      }
    },
    async set(k: string, value: unknown): Promise<void> {
      assertStoreKey(k);
      try {
        await entry(k).setPassword(JSON.stringify(value));
      } catch (cause) {
        throw fail('write', k, cause);
      }
    },
    async delete(k: string): Promise<boolean> {
      assertStoreKey(k);
      try {
        return await entry(k).deletePassword();
      } catch (cause) {
        throw fail('delete', k, cause);
      }
    },
    async withLock<T>(k: string, fn: () => Promise<T>, options?: LockOptions): Promise<T> {
      assertStoreKey(k);
      const release = await acquireLock(lockPathOf(dir, k), options);
      try {
        return await fn();
      } finally {
        await release();
      }
    },
  };
}
