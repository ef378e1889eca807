/** File-system helpers of the token store: private directories, atomic writes. */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

const isWindows = process.platform === 'win32';

/** Creates `dir` (mode 0700) and tightens it to 0700 when it already existed with wider modes. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (isWindows) return;
  const st = await stat(dir);
  const uid = process.getuid?.();
  if ((st.mode & 0o077) !== 0 && (uid === undefined || st.uid === uid)) await chmod(dir, 0o700);
}

/** Writes `data` to `path` atomically (temp file with mode 0600, fsync, rename). */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  const dir = join(path, '..');
  const tmp = join(dir, `.${randomBytes(6).toString('hex')}.${process.pid}.tmp`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

export function isErrno(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === code;
}
