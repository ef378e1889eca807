import { spawn } from 'node:child_process';
import { readdir, readFile, stat, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTokenStore, OAuthClientErrorCode, type TokenStore } from '@bastion-mcp/auth/client';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bastion-store-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

async function freshStore(name: string): Promise<TokenStore> {
  return createTokenStore({ dir: join(root, name) });
}

const SECRET = 'rt_very-secret-refresh-token-0123456789';

describe('createTokenStore', () => {
  it('falls back to the encrypted file store when no keyring service answers', async () => {
    // This machine has no Secret Service (no D-Bus session): the keyring probe fails.
    const store = await freshStore('fallback');
    expect(store.backend).toBe('file');
  });

  it('validates its options', async () => {
    await expect(createTokenStore({ dir: 'relative/dir' })).rejects.toThrow(TypeError);
    await expect(createTokenStore({ dir: root, serviceName: '' })).rejects.toThrow('"serviceName"');
  });

  it('creates the directory 0700 and key and entry files 0600', async () => {
    const store = await freshStore('perms');
    await store.set('tokens:demo', { refreshToken: SECRET });
    const dir = join(root, 'perms');
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'store.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'tokens%3Ademo.enc'))).mode & 0o777).toBe(0o600);
  });

  it('stores entries encrypted: no token substring on disk', async () => {
    const store = await freshStore('enc');
    await store.set('tokens:demo', { accessToken: 'at_abcdefghijklmnop', refreshToken: SECRET });
    const dir = join(root, 'enc');
    for (const file of await readdir(dir)) {
      const bytes = await readFile(join(dir, file));
      expect(bytes.includes(Buffer.from('very-secret'))).toBe(false);
      expect(bytes.includes(Buffer.from('abcdefghijklmnop'))).toBe(false);
    }
    expect(await store.get('tokens:demo')).toEqual({
      accessToken: 'at_abcdefghijklmnop',
      refreshToken: SECRET,
    });
  });

  it('updates one stable entry in place and deletes it', async () => {
    const store = await freshStore('inplace');
    await store.set('tokens:w1', { v: 1 });
    await store.set('tokens:w1', { v: 2 });
    const files = (await readdir(join(root, 'inplace'))).sort();
    expect(files).toEqual(['store.key', 'tokens%3Aw1.enc']);
    expect(await store.get('tokens:w1')).toEqual({ v: 2 });
    expect(await store.delete('tokens:w1')).toBe(true);
    expect(await store.delete('tokens:w1')).toBe(false);
    expect(await store.get('tokens:w1')).toBeUndefined();
  });

  it('shares the key between instances and rejects a tampered or moved entry', async () => {
    const a = await freshStore('shared');
    await a.set('tokens:x', { ok: true });
    const b = await freshStore('shared');
    expect(await b.get('tokens:x')).toEqual({ ok: true });

    const dir = join(root, 'shared');
    const sealed = JSON.parse(await readFile(join(dir, 'tokens%3Ax.enc'), 'utf8')) as { ct: string };
    // An entry copied under another name does not decrypt (the store key is authenticated data).
    await writeFile(join(dir, 'tokens%3Ay.enc'), JSON.stringify(sealed));
    await expect(b.get('tokens:y')).rejects.toMatchObject({ code: OAuthClientErrorCode.Store });
    const ct = Buffer.from(sealed.ct, 'base64url');
    ct[0] = (ct[0] ?? 0) ^ 0xff;
    const flipped = { ...sealed, ct: ct.toString('base64url') };
    await writeFile(join(dir, 'tokens%3Ax.enc'), JSON.stringify(flipped));
    const err = await b.get('tokens:x').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: OAuthClientErrorCode.Store });
    expect((err as Error).message).not.toContain(sealed.ct);
  });

  it('rejects keys that could escape the directory', async () => {
    const store = await freshStore('keys');
    await expect(store.get('../evil')).rejects.toThrow(TypeError);
    await expect(store.set('a/b', 1)).rejects.toThrow(TypeError);
  });
});

describe('withLock', () => {
  it('serialises critical sections of one key', async () => {
    const store = await freshStore('lock1');
    const events: string[] = [];
    const section = (id: string) =>
      store.withLock('tokens:w', async () => {
        events.push(`${id}:in`);
        await new Promise((r) => setTimeout(r, 30));
        events.push(`${id}:out`);
      });
    await Promise.all([section('a'), section('b'), section('c')]);
    for (let i = 0; i < events.length; i += 2) {
      expect(events[i]?.replace(':in', '')).toBe(events[i + 1]?.replace(':out', ''));
    }
    expect(await readdir(join(root, 'lock1'))).not.toContain('tokens%3Aw.lock');
  });

  it('releases the lock when the section throws', async () => {
    const store = await freshStore('lock2');
    await expect(store.withLock('tokens:w', async () => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    );
    await expect(store.withLock('tokens:w', async () => 'ok', { timeoutMs: 200 })).resolves.toBe('ok');
  });

  it('times out with a coded error while another holder keeps the lock', async () => {
    const store = await freshStore('lock3');
    let release!: () => void;
    const held = store.withLock('tokens:w', () => new Promise<void>((r) => (release = r)));
    await new Promise((r) => setTimeout(r, 20));
    await expect(store.withLock('tokens:w', async () => 'never', { timeoutMs: 100 })).rejects.toMatchObject({
      code: OAuthClientErrorCode.LockTimeout,
    });
    release();
    await held;
  });

  it('takes over a lock left by a dead process', async () => {
    const store = await freshStore('lock4');
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = await new Promise<number>((resolve) => child.on('exit', () => resolve(child.pid!)));
    await writeFile(
      join(root, 'lock4', 'tokens%3Aw.lock'),
      JSON.stringify({
        pid: deadPid,
        host: (await import('node:os')).hostname(),
        nonce: 'old',
        createdAt: Date.now(),
      }),
    );
    await expect(store.withLock('tokens:w', async () => 'taken', { timeoutMs: 2_000 })).resolves.toBe(
      'taken',
    );
  });

  it('waits for a lock held by a live process of another instance', async () => {
    const store = await freshStore('lock5');
    await writeFile(
      join(root, 'lock5', 'tokens%3Aw.lock'),
      JSON.stringify({
        pid: process.pid,
        host: (await import('node:os')).hostname(),
        nonce: 'live',
        createdAt: Date.now(),
      }),
    );
    await expect(store.withLock('tokens:w', async () => 'x', { timeoutMs: 150 })).rejects.toMatchObject({
      code: OAuthClientErrorCode.LockTimeout,
    });
    // …and considers it abandoned once it is older than staleMs.
    await expect(
      store.withLock('tokens:w', async () => 'stale', { timeoutMs: 1_000, staleMs: 1 }),
    ).resolves.toBe('stale');
  });
});
