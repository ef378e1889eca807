/**
 * Encrypted file store: one AES-256-GCM sealed file per key (`<dir>/<key>.enc`, mode 0600) under a
 * private directory (0700), replaced atomically, with the 32-byte key in `<dir>/store.key` (0600).
 *
 * Threat model: the key lives next to the data, so this protects against casual reading, accidental
 * sharing of the directory, backups and indexers that copy files without the key, and grep for token
 * strings. It does NOT protect against malware or another process running as the same user: that
 * user can read the key file too. Use the OS keyring for that.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { OAuthClientError, OAuthClientErrorCode } from '../errors.js';
import { seal, unseal } from './crypto.js';
import { ensurePrivateDir, isErrno, writeFileAtomic } from './fs-util.js';
import { acquireLock } from './lock.js';
import { assertStoreKey, fileNameOf, type LockOptions, type TokenStore } from './types.js';

const KEY_FILE = 'store.key';

async function loadOrCreateKey(dir: string): Promise<Buffer> {
  const path = join(dir, KEY_FILE);
  try {
    const fh = await open(path, 'wx', 0o600);
    const key = randomBytes(32);
    try {
      await fh.writeFile(key);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return key;
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) {
      throw new OAuthClientError(OAuthClientErrorCode.Store, `Cannot create the token store key in ${dir}`, {
        cause: err,
      });
    }
  }
  // Another process may be writing it right now: retry briefly until it has 32 bytes.
  for (let i = 0; i < 50; i++) {
    const key = await readFile(path);
    if (key.length === 32) return key;
    if (key.length > 32) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new OAuthClientError(
    OAuthClientErrorCode.Store,
    `The token store key ${path} is corrupt (expected 32 bytes)`,
  );
}

/** Paths of the lock files, shared by the file and keyring stores. */
export function lockPathOf(dir: string, key: string): string {
  return join(dir, `${fileNameOf(key)}.lock`);
}

export async function createFileStore(dir: string): Promise<TokenStore> {
  await ensurePrivateDir(dir);
  const key = await loadOrCreateKey(dir);
  const pathOf = (k: string) => join(dir, `${fileNameOf(k)}.enc`);
  return {
    backend: 'file',
    dir,
    async get(k: string): Promise<unknown> {
      assertStoreKey(k);
      let text: string;
      try {
        text = await readFile(pathOf(k), 'utf8');
      } catch (err) {
        if (isErrno(err, 'ENOENT')) return undefined;
        throw new OAuthClientError(OAuthClientErrorCode.Store, `Cannot read the token store entry "${k}"`, {
          cause: err,
        });
      }
      let sealed: unknown;
      try {
        sealed = JSON.parse(text);
      } catch (cause) {
        throw new OAuthClientError(OAuthClientErrorCode.Store, `The token store entry "${k}" is corrupt`, {
          cause,
        });
      }
      return JSON.parse(unseal(key, k, sealed));
    },
    async set(k: string, value: unknown): Promise<void> {
      assertStoreKey(k);
      await writeFileAtomic(pathOf(k), JSON.stringify(seal(key, k, JSON.stringify(value))));
    },
    async delete(k: string): Promise<boolean> {
      assertStoreKey(k);
      try {
        await unlink(pathOf(k));
        return true;
      } catch (err) {
        if (isErrno(err, 'ENOENT')) return false;
        throw err;
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
