/** watchIdle: the upstream body idle timeout without an extra stream. */
import { describe, expect, it, jest } from '@jest/globals';
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { watchIdle } from '../../src/forwarder/idle-timeout.js';

class IdleError extends Error {}

describe('watchIdle', () => {
  it('destroys the stream with the given error when no chunk arrives', async () => {
    const stream = watchIdle(new PassThrough(), 30, () => new IdleError('idle'));
    const [err] = await once(stream, 'error');
    expect(err).toBeInstanceOf(IdleError);
    expect(stream.destroyed).toBe(true);
  });

  it('returns the same stream (no wrapper) and relays every chunk', async () => {
    const source = new Readable({ read() {} });
    const watched = watchIdle(source, 10_000, () => new IdleError('idle'));
    expect(watched).toBe(source);
    source.push('a');
    source.push('b');
    source.push(null);
    const parts: string[] = [];
    for await (const c of watched) parts.push(String(c));
    expect(parts.join('')).toBe('ab');
  });

  it('keeps a stream alive while chunks keep arriving, and fires once they stop', async () => {
    // Fake clock: the machine is shared, so real sleeps could exceed the idle limit by themselves.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      const source = new Readable({ read() {} });
      const watched = watchIdle(source, 60, () => new IdleError('idle'));
      const errors: unknown[] = [];
      watched.on('error', (e) => errors.push(e));
      watched.resume();
      // A chunk every 40 ms for 600 ms: each one re-arms the 60 ms timer.
      for (let i = 0; i < 15; i++) {
        source.push('x');
        jest.advanceTimersByTime(40);
      }
      await new Promise((r) => setImmediate(r));
      expect(errors).toEqual([]);
      expect(watched.destroyed).toBe(false);
      jest.advanceTimersByTime(61);
      await new Promise((r) => setImmediate(r));
      expect(errors[0]).toBeInstanceOf(IdleError);
      expect(watched.destroyed).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  it('never fires after the stream ended', async () => {
    const source = new Readable({ read() {} });
    const watched = watchIdle(source, 20, () => new IdleError('idle'));
    const errors: unknown[] = [];
    watched.on('error', (e) => errors.push(e));
    source.push('done');
    source.push(null);
    watched.resume();
    await once(watched, 'close');
    await new Promise((r) => setTimeout(r, 60));
    expect(errors).toEqual([]);
    expect(watched.readableEnded).toBe(true);
  });
});
