import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import diagnosticsChannel from 'node:diagnostics_channel';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { logs } from '@opentelemetry/api-logs';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { Auditor } from '../src/auditor.js';
import { AuditErrorCode } from '../src/errors.js';
import type { AuditEvent } from '../src/event.js';
import { createFileSink } from '../src/sinks/file.js';
import { createOtelSink } from '../src/sinks/otel.js';
import type { AuditSink } from '../src/sinks/sink.js';
import { createStreamSink } from '../src/sinks/stream.js';
import { assertValidEvent } from './helpers.js';

function event(i: number, extra: Partial<AuditEvent> = {}): AuditEvent {
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
    ...extra,
  };
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bastion-audit-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('file sink', () => {
  it('appends JSON lines to a 0600 file and keeps existing content', async () => {
    const file = path.join(dir, 'append.jsonl');
    fs.writeFileSync(file, '{"old":true}\n', { mode: 0o644 });
    const sink = createFileSink({ path: file });
    await sink.write([event(1), event(2)]);
    await sink.close?.();
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0] as string)).toEqual({ old: true });
    const e = JSON.parse(lines[2] as string);
    assertValidEvent(e);
    expect(e.source.requestId).toBe('r2');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('rotates by size into .1 … .N, dropping the oldest, and every file stays whole lines', async () => {
    const file = path.join(dir, 'rot.jsonl');
    const sink = createFileSink({ path: file, maxBytes: 2048, maxFiles: 2 });
    const lineBytes = Buffer.byteLength(`${JSON.stringify(event(0))}\n`);
    const total = Math.ceil((2048 * 4) / lineBytes); // enough for ~4 files
    for (let i = 0; i < total; i++) await sink.write([event(i)]);
    await sink.close?.();
    expect(fs.existsSync(`${file}.1`)).toBe(true);
    expect(fs.existsSync(`${file}.2`)).toBe(true);
    expect(fs.existsSync(`${file}.3`)).toBe(false);
    const ids: number[] = [];
    for (const f of [`${file}.2`, `${file}.1`, file]) {
      expect(fs.statSync(f).size).toBeLessThanOrEqual(2048);
      expect(fs.statSync(f).mode & 0o777).toBe(0o600);
      for (const line of fs.readFileSync(f, 'utf8').trim().split('\n')) {
        ids.push(Number(JSON.parse(line).source.requestId.slice(1)));
      }
    }
    // newest events survive, in order, with no gap inside the kept files
    expect(ids[ids.length - 1]).toBe(total - 1);
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBe((ids[i - 1] as number) + 1);
    expect(ids[0]).toBeGreaterThan(0); // the oldest file was removed
  });

  it('writes non-ASCII text exactly, through batches of any size, with and without the batch text', async () => {
    for (const syncWrites of [true, false]) {
      const file = path.join(dir, `utf8-${syncWrites}.jsonl`);
      const sink = createFileSink({ path: file, syncWrites, maxBytes: 64 * 1024 * 1024 });
      const ua = (i: number, n: number) => ({
        ip: '127.0.0.1',
        requestId: `r${i}`,
        userAgent: `é✓😀\u2028${'x'.repeat(n)}`,
      });
      const batches = [
        [event(1, { source: ua(1, 10) }), event(2, { source: ua(2, 0) }), event(3)],
        [event(4)],
        Array.from({ length: 300 }, (_, i) => event(100 + i, { source: ua(100 + i, 5000) })), // > 1 MiB
        [event(5, { source: ua(5, 3) })],
      ];
      let expected = '';
      for (const [i, b] of batches.entries()) {
        expected += b.map((e) => `${JSON.stringify(e)}\n`).join('');
        await sink.write(b, i % 2 === 0 ? b.map((e) => `${JSON.stringify(e)}\n`).join('') : undefined);
      }
      await sink.close?.();
      expect(fs.readFileSync(file, 'utf8')).toBe(expected);
      expect(sink.size).toBe(Buffer.byteLength(expected));
    }
  });

  it('rotates a batch of multi-byte lines at line ends, in order, none lost', async () => {
    const file = path.join(dir, 'rot-utf8.jsonl');
    const sink = createFileSink({ path: file, maxBytes: 2048, maxFiles: 50 });
    const all = Array.from({ length: 40 }, (_, i) =>
      event(i, { source: { ip: '127.0.0.1', requestId: `r${i}`, userAgent: 'ü'.repeat(i * 7) } }),
    );
    await sink.write(all.slice(0, 3));
    const rest = all.slice(3);
    await sink.write(rest, rest.map((e) => `${JSON.stringify(e)}\n`).join(''));
    await sink.close?.();
    const files = [file, ...Array.from({ length: 50 }, (_, i) => `${file}.${i + 1}`)].filter((f) =>
      fs.existsSync(f),
    );
    expect(files.length).toBeGreaterThan(3);
    const ids: string[] = [];
    for (const f of files.reverse()) {
      const text = fs.readFileSync(f, 'utf8');
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(2048);
      expect(text.endsWith('\n')).toBe(true);
      for (const line of text.trim().split('\n')) ids.push((JSON.parse(line) as AuditEvent).source.requestId);
    }
    expect(ids).toEqual(all.map((e) => e.source.requestId));
  });

  it('fails at construction when the directory does not exist', () => {
    let err: unknown;
    try {
      createFileSink({ path: path.join(dir, 'missing', 'a.jsonl') });
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string }).code).toBe(AuditErrorCode.SinkOpen);
    expect(() => createFileSink({ path: '' })).toThrow(/"path"/);
    expect(() => createFileSink({ path: path.join(dir, 'x'), maxBytes: 10 })).toThrow(/"maxBytes"/);
  });
});

describe('stream sink', () => {
  it('writes one JSON line per event', async () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, cb) {
        chunks.push(chunk.toString());
        cb();
      },
    });
    const sink = createStreamSink({ stream });
    await sink.write([event(1), event(2)]);
    const lines = chunks.join('').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).auditId)).toEqual([event(1).auditId, event(2).auditId]);
  });

  it('reports a stream error as a failed write', async () => {
    const stream = new Writable({
      write(_c, _e, cb) {
        cb(new Error('disk gone'));
      },
    });
    stream.on('error', () => {});
    await expect(createStreamSink({ stream }).write([event(1)])).rejects.toThrow('disk gone');
  });
});

describe('otel sink', () => {
  it('is a no-op without a registered provider', async () => {
    await expect(createOtelSink().write([event(1)])).resolves.toBeUndefined();
  });

  it('emits one log record per event on the global LoggerProvider', async () => {
    const exporter = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] });
    logs.setGlobalLoggerProvider(provider);
    try {
      await createOtelSink().write([event(7, { outcome: 'denied', status: 403 })]);
      const records = exporter.getFinishedLogRecords();
      expect(records).toHaveLength(1);
      const r = records[0];
      if (!r) throw new Error('no log record');
      expect(r?.eventName).toBe('bastion.audit');
      expect(r?.severityText).toBe('AUDIT');
      expect(r?.attributes['audit.outcome']).toBe('denied');
      expect(r?.attributes['gen_ai.tool.name']).toBe('echo');
      expect((r.body as Record<string, unknown>).auditId).toBe(event(7).auditId);
      expect(r?.instrumentationScope.name).toBe('@bastion-mcp/audit');
    } finally {
      await provider.shutdown();
      logs.disable();
    }
  });
});

describe('Auditor queues', () => {
  it('never blocks on a stuck sink: events beyond the queue are dropped, counted and published', async () => {
    const published: unknown[] = [];
    const listener = (m: unknown) => published.push(m);
    diagnosticsChannel.subscribe('bastion:audit:dropped', listener);
    const stuck: AuditSink = { name: 'stuck', write: () => new Promise<void>(() => {}) };
    const good: AuditSink & { n: number } = {
      name: 'good',
      n: 0,
      async write(b) {
        this.n += b.length;
      },
    };
    const auditor = new Auditor({ sinks: [stuck, good], queueSize: 3, closeTimeoutMs: 50 });
    try {
      for (let i = 0; i < 10; i++) {
        auditor.emit(event(i)); // synchronous: returns at once even though "stuck" never finishes
        await new Promise<void>((r) => setImmediate(r));
      }
      await auditor.flush(50);
      const s = auditor.stats();
      // "stuck" holds one event in its pending write, queues 3, drops the other 6
      expect(s.sinks.stuck).toEqual({ written: 0, dropped: 6, pending: 3 });
      expect(s.sinks.good).toEqual({ written: 10, dropped: 0, pending: 0 });
      expect(s.droppedEvents).toBe(s.sinks.stuck?.dropped);
      expect(published.length).toBe(s.droppedEvents);
      expect(published[0]).toEqual({ sink: 'stuck', reason: 'queue-full' });
    } finally {
      diagnosticsChannel.unsubscribe('bastion:audit:dropped', listener);
      await auditor.close();
    }
    // events still queued on the stuck sink at close are counted as dropped too
    expect(auditor.stats().sinks.stuck?.pending).toBe(0);
  });

  it('counts a failing sink batch as dropped with reason sink-error and keeps going', async () => {
    let calls = 0;
    const flaky: AuditSink = {
      name: 'flaky',
      async write() {
        calls++;
        if (calls === 1) throw new Error('boom');
      },
    };
    const reasons: string[] = [];
    const codes: unknown[] = [];
    const auditor = new Auditor({
      sinks: [flaky],
      onDrop: (d) => {
        reasons.push(d.reason);
        codes.push((d.error as { code?: string })?.code);
      },
    });
    auditor.emit(event(1));
    await auditor.flush();
    auditor.emit(event(2));
    await auditor.flush();
    expect(auditor.stats().sinks.flaky).toEqual({ written: 1, dropped: 1, pending: 0 });
    expect(reasons).toEqual(['sink-error']);
    expect(codes).toEqual([AuditErrorCode.SinkWrite]);
    await auditor.close();
  });

  it('serialises an event once, as it is emitted, for every JSON-lines sink', async () => {
    const file = path.join(dir, 'once.jsonl');
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, cb) {
        chunks.push(String(chunk));
        cb();
      },
    });
    // A custom sink that changes the events it is given, before the file sink's gathering interval ends.
    const meddler: AuditSink = {
      name: 'meddler',
      async write(b) {
        for (const e of b) (e as { outcome: string }).outcome = 'error';
      },
    };
    const auditor = new Auditor({
      sinks: [createFileSink({ path: file, flushIntervalMs: 1000 }), createStreamSink({ stream }), meddler],
    });
    const events = [event(1), event(2, { tokenExchange: { cache: 'hit' } })];
    const expected = events.map((e) => `${JSON.stringify(e)}\n`).join('');
    for (const e of events) auditor.emit(e);
    await new Promise<void>((r) => setTimeout(r, 5)); // the meddler writes, the file sink still gathers
    expect(events[0]?.outcome).toBe('error');
    await auditor.close();
    expect(fs.readFileSync(file, 'utf8')).toBe(expected); // the lines are those of the events as emitted
    expect(chunks.join('')).toBe(expected);
  });

  it('an event that cannot be serialised is dropped by the JSON-lines sinks only, and emit does not throw', async () => {
    const file = path.join(dir, 'unserialisable.jsonl');
    const reasons: string[] = [];
    const objects: AuditEvent[] = [];
    const memory: AuditSink = {
      name: 'memory',
      async write(b) {
        objects.push(...b);
      },
    };
    const auditor = new Auditor({
      sinks: [createFileSink({ path: file }), memory],
      onDrop: (d) => reasons.push(`${d.sink}:${d.reason}`),
    });
    const bad = event(1, { tokenExchange: { n: 1n as unknown as number } });
    expect(() => auditor.emit(bad)).not.toThrow();
    await auditor.flush();
    auditor.emit(event(2));
    await auditor.close();
    expect(reasons).toEqual(['file:sink-error']);
    expect(objects.map((e) => e.source.requestId)).toEqual(['r1', 'r2']);
    expect(fs.readFileSync(file, 'utf8')).toBe(`${JSON.stringify(event(2))}\n`);
  });

  it('rejects duplicate sink names and bad sizes', () => {
    const s: AuditSink = { name: 'a', write: async () => {} };
    expect(() => new Auditor({ sinks: [s, s] })).toThrow(/two sinks named "a"/);
    expect(() => new Auditor({ sinks: [s], queueSize: 0 })).toThrow(/"queueSize"/);
  });
});
