/**
 * The file sink writes in batches: its queue gathers events for `flushIntervalMs` and hands them to
 * one `write`. Fake timers (jest's clock) stand in for the gathering timer only, so the tests decide
 * when the interval has passed instead of racing it; the file I/O is real.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Auditor } from '../src/auditor.js';
import type { AuditEvent } from '../src/event.js';
import { createFileSink, DEFAULT_FILE_FLUSH_INTERVAL_MS } from '../src/sinks/file.js';
import type { FileSinkOptions } from '../src/sinks/file.js';
import { MAX_BATCH } from '../src/sinks/queue.js';
import type { AuditSink } from '../src/sinks/sink.js';
import { assertValidEvent, tick } from './helpers.js';

function event(i: number): AuditEvent {
  return {
    auditId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, i % 60)).toISOString(),
    type: 'mcp_tool_call',
    outcome: 'success',
    subject: { userId: 'u1' },
    source: { ip: '127.0.0.1', requestId: `r${i}` },
    target: { server: 'demo', endpoint: '/mcp', httpMethod: 'POST', method: 'tools/call', tool: 'echo' },
    durationMs: 1.5,
    status: 200,
  };
}

/** The real file sink, recording the size of every batch it is handed. */
function countingFileSink(options: FileSinkOptions): AuditSink & { batches: number[] } {
  const file = createFileSink(options);
  const batches: number[] = [];
  return {
    name: file.name,
    flushIntervalMs: file.flushIntervalMs,
    jsonLines: file.jsonLines,
    batches,
    write(events, text) {
      batches.push(events.length);
      return file.write(events, text);
    },
    close: () => file.close?.() ?? Promise.resolve(),
  };
}

function requestIds(file: string): number[] {
  return fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const e = JSON.parse(l);
      assertValidEvent(e);
      return Number(e.source.requestId.slice(1));
    });
}

/** Event-loop turns (setImmediate is not faked) until `cond` holds; bounded. */
async function turnsUntil(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await tick();
  expect(cond()).toBe(true);
}

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bastion-audit-batch-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  jest.useRealTimers();
});

const fakeTimers = () =>
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask', 'performance', 'Date'] });

describe('file sink batching', () => {
  it('gathers the events of many requests for flushIntervalMs and writes them in one write, in order', async () => {
    fakeTimers();
    const file = path.join(dir, 'gather.jsonl');
    const sink = countingFileSink({ path: file, flushIntervalMs: 20 });
    const auditor = new Auditor({ sinks: [sink] });
    // One event per event-loop turn, as separate requests would emit them.
    for (const i of range(40)) {
      auditor.emit(event(i));
      await tick();
    }
    expect(sink.batches).toEqual([]);
    expect(auditor.stats().sinks.file).toEqual({ written: 0, dropped: 0, pending: 40 });
    expect(fs.readFileSync(file, 'utf8')).toBe('');

    jest.advanceTimersByTime(20);
    await turnsUntil(() => auditor.stats().sinks.file?.written === 40);
    expect(sink.batches).toEqual([40]);
    expect(requestIds(file)).toEqual(range(40));
    await auditor.close();
  });

  it(`starts writing without waiting once ${MAX_BATCH} events are queued`, async () => {
    fakeTimers();
    const file = path.join(dir, 'full-batch.jsonl');
    const sink = countingFileSink({ path: file, flushIntervalMs: 1000 });
    const auditor = new Auditor({ sinks: [sink] });
    for (const i of range(MAX_BATCH + 10)) auditor.emit(event(i));
    // The clock never moves: only the size threshold can start the write.
    await turnsUntil(() => (auditor.stats().sinks.file?.written ?? 0) >= MAX_BATCH);
    expect(sink.batches[0]).toBe(MAX_BATCH);
    await auditor.close();
    expect(sink.batches.reduce((a, b) => a + b, 0)).toBe(MAX_BATCH + 10);
    expect(requestIds(file)).toEqual(range(MAX_BATCH + 10));
  });

  it('close() writes everything queued at once (no wait for the interval) and nothing is lost', async () => {
    fakeTimers();
    const file = path.join(dir, 'close.jsonl');
    const sink = countingFileSink({ path: file, flushIntervalMs: 1000 });
    // With the gathering timer frozen, close() only finishes if it ends the wait itself.
    const auditor = new Auditor({ sinks: [sink] });
    for (const i of range(25)) auditor.emit(event(i));
    await auditor.close();
    expect(auditor.stats()).toMatchObject({ emitted: 25, droppedEvents: 0 });
    expect(auditor.stats().sinks.file).toEqual({ written: 25, dropped: 0, pending: 0 });
    expect(requestIds(file)).toEqual(range(25));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('flush() ends the wait as well, and events emitted while a batch is written follow it in order', async () => {
    fakeTimers();
    const file = path.join(dir, 'flush.jsonl');
    const sink = countingFileSink({ path: file, flushIntervalMs: 1000 });
    const auditor = new Auditor({ sinks: [sink] });
    for (const i of range(5)) auditor.emit(event(i));
    const flushed = auditor.flush(60_000);
    for (const i of range(5, 5)) auditor.emit(event(i)); // while the first batch is being written
    expect(await flushed).toBe(true);
    expect(await auditor.flush(60_000)).toBe(true);
    expect(requestIds(file)).toEqual(range(10));
    await auditor.close();
  });

  it('still drops and counts events beyond queueSize while it gathers', async () => {
    fakeTimers();
    const file = path.join(dir, 'bounded.jsonl');
    const dropped: string[] = [];
    const auditor = new Auditor({
      sinks: [countingFileSink({ path: file, flushIntervalMs: 1000 })],
      queueSize: 8,
      onDrop: (d) => dropped.push(d.reason),
    });
    for (const i of range(12)) auditor.emit(event(i));
    expect(auditor.stats().sinks.file).toEqual({ written: 0, dropped: 4, pending: 8 });
    expect(dropped).toEqual(['queue-full', 'queue-full', 'queue-full', 'queue-full']);
    await auditor.close();
    expect(requestIds(file)).toEqual(range(8));
  });

  it('splits a batch that crosses maxBytes across rotated files, whole lines, in order, none lost', async () => {
    const file = path.join(dir, 'split.jsonl');
    const sink = createFileSink({ path: file, maxBytes: 2048, maxFiles: 20 });
    const lineBytes = Buffer.byteLength(`${JSON.stringify(event(0))}\n`);
    const total = Math.ceil((2048 * 5) / lineBytes); // one batch worth ~5 files
    await sink.write(range(total).map(event));
    await sink.close?.();
    const files = [
      ...range(20, 1)
        .reverse()
        .map((n) => `${file}.${n}`),
      file,
    ].filter((f) => fs.existsSync(f));
    expect(files.length).toBeGreaterThanOrEqual(5);
    const ids: number[] = [];
    for (const f of files) {
      expect(fs.statSync(f).size).toBeLessThanOrEqual(2048);
      expect(fs.statSync(f).mode & 0o777).toBe(0o600);
      ids.push(...requestIds(f));
    }
    expect(ids).toEqual(range(total));
  });

  it('writes the same whole lines, in order, with syncWrites false (thread-pool writes)', async () => {
    const file = path.join(dir, 'async-writes.jsonl');
    const sink = createFileSink({ path: file, syncWrites: false, maxBytes: 2048, maxFiles: 20 });
    const lineBytes = Buffer.byteLength(`${JSON.stringify(event(0))}\n`);
    const total = Math.ceil((2048 * 2) / lineBytes);
    await sink.write(range(10).map(event));
    await sink.write(range(total - 10, 10).map(event)); // crosses maxBytes: split and rotated
    await sink.close?.();
    const files = [
      ...range(20, 1)
        .reverse()
        .map((n) => `${file}.${n}`),
      file,
    ].filter((f) => fs.existsSync(f));
    expect(files.length).toBeGreaterThanOrEqual(2);
    expect(files.flatMap((f) => requestIds(f))).toEqual(range(total));
    expect(() => createFileSink({ path: file, syncWrites: 'yes' as unknown as boolean })).toThrow(
      /"syncWrites" must be a boolean/,
    );
  });

  it('defaults to a short interval and validates flushIntervalMs', () => {
    const sink = createFileSink({ path: path.join(dir, 'defaults.jsonl') });
    expect(sink.flushIntervalMs).toBe(DEFAULT_FILE_FLUSH_INTERVAL_MS);
    expect(DEFAULT_FILE_FLUSH_INTERVAL_MS).toBeLessThanOrEqual(10);
    void sink.close?.();
    for (const bad of [-1, 1.5, 1001, Number.NaN]) {
      expect(() => createFileSink({ path: path.join(dir, 'bad.jsonl'), flushIntervalMs: bad })).toThrow(
        /"flushIntervalMs" must be an integer between 0 and 1000/,
      );
    }
    const custom: AuditSink = { name: 'custom', flushIntervalMs: -5, write: async () => {} };
    expect(() => new Auditor({ sinks: [custom] })).toThrow(/sink "custom": "flushIntervalMs"/);
  });

  it('with flushIntervalMs 0 writes after the current I/O phase, as sinks without the option do', async () => {
    const file = path.join(dir, 'immediate.jsonl');
    const sink = countingFileSink({ path: file, flushIntervalMs: 0 });
    const auditor = new Auditor({ sinks: [sink] });
    auditor.emit(event(1));
    await turnsUntil(() => auditor.stats().sinks.file?.written === 1);
    expect(sink.batches).toEqual([1]);
    await auditor.close();
    expect(requestIds(file)).toEqual([1]);
  });
});
