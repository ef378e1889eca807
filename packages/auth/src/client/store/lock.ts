/**
 * Cross-process lock: an O_EXCL lock file holding `{pid, host, nonce, createdAt}`. A lock whose pid
 * is dead (same host) or that is older than `staleMs` is taken over: it is first renamed to a unique
 * name (atomic, so only one waiter wins), checked to still be the abandoned one, then removed.
 */
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { OAuthClientError, OAuthClientErrorCode } from '../errors.js';
import { isErrno } from './fs-util.js';
import type { LockOptions } from './types.js';

interface LockInfo {
  pid: number;
  host: string;
  nonce: string;
  createdAt: number;
}

function parseLock(text: string): LockInfo | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (typeof v.pid === 'number' && typeof v.nonce === 'string' && typeof v.createdAt === 'number') {
      return { pid: v.pid, host: String(v.host ?? ''), nonce: v.nonce, createdAt: v.createdAt };
    }
  } catch {
    // partially written or garbage
  }
  return undefined;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return isErrno(err, 'EPERM');
  }
}

async function tryCreate(path: string, info: LockInfo): Promise<boolean> {
  try {
    const fh = await open(path, 'wx', 0o600);
    try {
      await fh.writeFile(JSON.stringify(info));
    } finally {
      await fh.close();
    }
    return true;
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return false;
    throw err;
  }
}

/** Removes `path` if it is (still) the abandoned lock described by `seen`. */
async function reap(path: string, seen: string): Promise<void> {
  const aside = `${path}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(path, aside);
  } catch {
    return; // someone else reaped or released it
  }
  const now = await readFile(aside, 'utf8').catch(() => '');
  if (now !== seen) {
    // We moved a fresh lock taken in the meantime: put it back unless yet another one exists.
    await link(aside, path).catch(() => {});
  }
  await unlink(aside).catch(() => {});
}

/** Acquires the lock at `path`; resolves to a release function. */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const staleMs = options.staleMs ?? 600_000;
  const info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    nonce: randomBytes(12).toString('hex'),
    createdAt: Date.now(),
  };
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  for (;;) {
    if (options.signal?.aborted) {
      throw new OAuthClientError(
        OAuthClientErrorCode.Aborted,
        'Waiting for the token store lock was aborted',
      );
    }
    info.createdAt = Date.now();
    if (await tryCreate(path, info)) break;
    const text = await readFile(path, 'utf8').catch((err: unknown) => (isErrno(err, 'ENOENT') ? null : ''));
    if (text !== null) {
      const holder = parseLock(text);
      const abandoned = holder
        ? (holder.host === info.host && !pidAlive(holder.pid)) || Date.now() - holder.createdAt > staleMs
        : false;
      if (abandoned) {
        await reap(path, text);
        continue;
      }
      if (!holder) {
        // Empty or unparseable: being written right now, or left by a crash between create and write.
        const mtime = await stat(path)
          .then((st) => st.mtimeMs)
          .catch(() => Date.now());
        if (Date.now() - mtime > 2_000) {
          await reap(path, text);
          continue;
        }
      }
    }
    if (Date.now() >= deadline) {
      throw new OAuthClientError(
        OAuthClientErrorCode.LockTimeout,
        `Timed out after ${timeoutMs} ms waiting for the token store lock ${path} (held by another Bastion process)`,
        { retryable: true },
      );
    }
    await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
    delay = Math.min(delay * 2, 200);
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    const text = await readFile(path, 'utf8').catch(() => null);
    if (text !== null && parseLock(text)?.nonce === info.nonce) await unlink(path).catch(() => {});
  };
}
