/**
 * Append-only JSON-lines file with size-based rotation: when the next line would push the file over
 * `maxBytes`, it is fsynced, closed and renamed to `<path>.1` (older files shift to `.2` ... `.N`, the
 * oldest is removed) and a fresh file is opened. Files are created with mode 0600.
 *
 * Events are written in batches: the queue in front of the sink gathers them for `flushIntervalMs`
 * (default 5 ms) and the whole batch goes out in one `write` (one system call instead of one per
 * request), synchronously by default (`syncWrites`). The price is durability: an event reaches the OS
 * up to `flushIntervalMs` after its request ended, so a crash (SIGKILL, OOM) can lose that window; a
 * graceful close writes everything.
 */
import fs from 'node:fs';
import { promisify } from 'node:util';
import { AuditErrorCode, AuditSinkError } from '../errors.js';
import type { AuditEvent } from '../event.js';
import type { AuditSink } from './sink.js';
import { toJsonLines } from './sink.js';

const write = promisify(fs.write);
const fsync = promisify(fs.fsync);
const close = promisify(fs.close);
const fchmod = promisify(fs.fchmod);
const fstat = promisify(fs.fstat);
const open = promisify(fs.open);

export interface FileSinkOptions {
  /** Log file path. Its directory must exist. */
  path: string;
  /** Rotate when the file would grow past this size, bytes. Default 104857600 (100 MiB). */
  maxBytes?: number | undefined;
  /** Rotated files kept (`<path>.1` ... `<path>.<maxFiles>`). Default 5; 0 truncates instead of keeping. */
  maxFiles?: number | undefined;
  /** File mode for created files. Default 0o600. */
  mode?: number | undefined;
  /** Default `file`. */
  name?: string | undefined;
  /**
   * How long events are gathered before they are written in one `write`, ms. Default 5; 0 writes
   * after every I/O phase of the event loop (one write per request or so under load). At most 1000.
   */
  flushIntervalMs?: number | undefined;
  /**
   * Write each batch with a synchronous `write(2)` on the event loop (default `true`): an append of a
   * few KiB to the page cache takes microseconds, while a thread-pool write costs a hand-off to another
   * thread and back, which on a busy machine can cost the event loop its CPU slot. Set `false` for a
   * file system whose writes can stall (NFS and other network mounts): writes then go through libuv's
   * thread pool and never block the event loop.
   */
  syncWrites?: boolean | undefined;
}

/** Default gathering interval of the file sink, ms. */
export const DEFAULT_FILE_FLUSH_INTERVAL_MS = 5;

export interface FileSink extends AuditSink {
  /** Current size of the active file, bytes. */
  readonly size: number;
}

function openSync(path: string, mode: number, name: string): number {
  try {
    const fd = fs.openSync(path, 'a', mode);
    fs.fchmodSync(fd, mode);
    return fd;
  } catch (cause) {
    throw new AuditSinkError(`audit sink "${name}" cannot open its file`, {
      sink: name,
      code: AuditErrorCode.SinkOpen,
      cause,
    });
  }
}

/** Opens the file synchronously (a missing directory fails at construction, not on the first event). */
export function createFileSink(options: FileSinkOptions): FileSink {
  if (typeof options?.path !== 'string' || options.path.length === 0) {
    throw new TypeError('"path" must be a non-empty string');
  }
  const maxBytes = options.maxBytes ?? 100 * 1024 * 1024;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1024)
    throw new TypeError('"maxBytes" must be an integer >= 1024');
  const maxFiles = options.maxFiles ?? 5;
  if (!Number.isSafeInteger(maxFiles) || maxFiles < 0 || maxFiles > 1000) {
    throw new TypeError('"maxFiles" must be an integer between 0 and 1000');
  }
  const flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FILE_FLUSH_INTERVAL_MS;
  if (!Number.isSafeInteger(flushIntervalMs) || flushIntervalMs < 0 || flushIntervalMs > 1000) {
    throw new TypeError('"flushIntervalMs" must be an integer between 0 and 1000');
  }
  const syncWrites = options.syncWrites ?? true;
  if (typeof syncWrites !== 'boolean') throw new TypeError('"syncWrites" must be a boolean');
  const mode = options.mode ?? 0o600;
  const name = options.name ?? 'file';
  const path = options.path;

  let fd: number | undefined = openSync(path, mode, name);
  let size = fs.fstatSync(fd).size;

  async function rotate(): Promise<void> {
    if (fd !== undefined) {
      await fsync(fd);
      await close(fd);
      fd = undefined;
    }
    if (maxFiles === 0) {
      await fs.promises.rm(path, { force: true });
    } else {
      await fs.promises.rm(`${path}.${maxFiles}`, { force: true });
      for (let i = maxFiles - 1; i >= 1; i--) {
        try {
          await fs.promises.rename(`${path}.${i}`, `${path}.${i + 1}`);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
      await fs.promises.rename(path, `${path}.1`);
    }
    fd = await open(path, 'a', mode);
    await fchmod(fd, mode);
    size = (await fstat(fd)).size;
  }

  async function writeAll(buf: Buffer): Promise<void> {
    if (fd === undefined) fd = openSync(path, mode, name);
    let offset = 0;
    while (offset < buf.length) {
      offset += syncWrites
        ? fs.writeSync(fd, buf, offset, buf.length - offset, null)
        : (await write(fd, buf, offset, buf.length - offset, null)).bytesWritten;
    }
    size += buf.length;
  }

  /**
   * A batch that fits: a synchronous write takes the string as it is (node encodes it into a
   * transient native buffer instead of a Buffer on the JS heap per batch).
   */
  async function writeText(text: string, bytes: number): Promise<void> {
    if (!syncWrites) return writeAll(Buffer.from(text, 'utf8'));
    if (fd === undefined) fd = openSync(path, mode, name);
    const written = fs.writeSync(fd, text, null, 'utf8');
    if (written < bytes) {
      // short write (rare on a regular file): the rest from the encoded bytes
      size += written;
      return writeAll(Buffer.from(text, 'utf8').subarray(written));
    }
    size += bytes;
  }

  /** A batch that would cross `maxBytes`: written line by line into as many files as it takes. */
  async function writeRotating(text: string): Promise<void> {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    // JSON.stringify escapes newlines, so every '\n' ends one event's line.
    const lines = text.split('\n');
    lines.pop();
    for (const l of lines) {
      const line = Buffer.from(`${l}\n`, 'utf8');
      const used = size + pendingBytes;
      if (used > 0 && used + line.length > maxBytes) {
        if (pendingBytes > 0) await writeAll(Buffer.concat(pending, pendingBytes));
        pending = [];
        pendingBytes = 0;
        await rotate();
      }
      pending.push(line);
      pendingBytes += line.length;
    }
    if (pendingBytes > 0) await writeAll(Buffer.concat(pending, pendingBytes));
  }

  return {
    name,
    flushIntervalMs,
    jsonLines: true,
    get size() {
      return size;
    },
    async write(events: readonly AuditEvent[], batchText?: string): Promise<void> {
      const text = batchText ?? toJsonLines(events);
      const bytes = Buffer.byteLength(text, 'utf8');
      if (size + bytes <= maxBytes) await writeText(text, bytes);
      else await writeRotating(text);
    },
    async close(): Promise<void> {
      if (fd === undefined) return;
      const f = fd;
      fd = undefined;
      try {
        await fsync(f);
      } finally {
        await close(f);
      }
    },
  };
}
