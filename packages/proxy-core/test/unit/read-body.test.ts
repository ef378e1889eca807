/**
 * `readBody` on node Readables (request bodies, upstream answers) is read with stream events; other
 * async iterables keep the generic path. Both honour the same contract: whole body, limit enforced as
 * bytes arrive, stream errors and premature closes rejected.
 */
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { BodyLimitError, readBody } from '../../src/internal/body.js';

describe('readBody', () => {
  it('reads a Readable fully, chunk by chunk, bytes and strings alike', async () => {
    const s = new PassThrough();
    const p = readBody(s, 1024);
    s.write(Buffer.from('{"a":'));
    s.write('1,"b":"é"');
    s.end(new Uint8Array(Buffer.from('}')));
    expect((await p).toString('utf8')).toBe('{"a":1,"b":"é"}');
  });

  it('returns the single chunk of a one-chunk body as is, and an empty buffer for an empty body', async () => {
    const one = Buffer.from('{"x":1}');
    expect((await readBody(Readable.from([one], { objectMode: false }), 100)).equals(one)).toBe(true);
    const empty = new PassThrough();
    empty.end();
    expect((await readBody(empty, 100)).length).toBe(0);
  });

  it('stops at the limit while bytes arrive: BodyLimitError, the source left paused for the caller', async () => {
    const s = new PassThrough();
    const p = readBody(s, 10);
    s.write(Buffer.alloc(6));
    s.write(Buffer.alloc(6));
    await expect(p).rejects.toBeInstanceOf(BodyLimitError);
    expect(s.destroyed).toBe(false);
    expect(s.readableFlowing).toBe(false);
    expect(s.listenerCount('data')).toBe(0);
  });

  it('rejects with the stream error, and on a close before the end', async () => {
    const failing = new PassThrough();
    const p1 = readBody(failing, 100);
    failing.write('{"a"');
    failing.destroy(new Error('upstream reset'));
    await expect(p1).rejects.toThrow('upstream reset');

    const cut = new PassThrough();
    const p2 = readBody(cut, 100);
    cut.write('{"a"');
    cut.destroy();
    await expect(p2).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });

    const gone = new PassThrough();
    gone.destroy();
    await expect(readBody(gone, 100)).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });

  it('keeps reading other async iterables (and object-mode streams) through the generic path', async () => {
    async function* gen() {
      yield Buffer.from('ab');
      yield 'cd';
    }
    expect((await readBody(gen(), 100)).toString()).toBe('abcd');
    await expect(readBody(gen(), 3)).rejects.toBeInstanceOf(BodyLimitError);
    expect((await readBody(Readable.from(['ef', 'gh']), 100)).toString()).toBe('efgh');
  });
});
