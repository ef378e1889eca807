import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseSse, type SseEvent, SseParser, serializeSseEvent } from '../../src/index.js';

function parseAll(chunks: Array<Uint8Array | string>): SseEvent[] {
  const p = new SseParser();
  const out: SseEvent[] = [];
  for (const c of chunks) out.push(...p.push(c));
  out.push(...p.end());
  return out;
}

/** Split bytes at the given cut points (anywhere, including inside UTF-8 sequences and CRLF). */
function chunk(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

/** What a round trip must give back: line breaks in data/comments normalised to LF, empty event type dropped. */
function normalise(ev: SseEvent): SseEvent {
  const out: SseEvent = { data: ev.data.replace(/\r\n|\r/g, '\n') };
  const hasOther =
    (ev.event !== undefined && ev.event !== '') ||
    ev.id !== undefined ||
    ev.retry !== undefined ||
    (ev.comments?.length ?? 0) > 0;
  if (out.data === '') out.hasData = !hasOther || (ev.hasData ?? false);
  if (ev.event !== undefined && ev.event !== '') out.event = ev.event;
  if (ev.id !== undefined) out.id = ev.id;
  if (ev.retry !== undefined) out.retry = ev.retry;
  if (ev.comments && ev.comments.length > 0) {
    out.comments = ev.comments.flatMap((c) => c.split(/\r\n|\r|\n/));
  }
  return out;
}

const text = fc.string({ unit: 'grapheme', maxLength: 30 });
const singleLine = text.map((s) => s.replace(/[\r\n\0]/g, ''));
const eventArb: fc.Arbitrary<SseEvent> = fc
  .record(
    {
      data: fc.oneof(
        text,
        fc.array(text, { maxLength: 4 }).map((a) => a.join('\n')),
        fc.constant(''),
      ),
      event: fc.option(singleLine, { nil: undefined }),
      id: fc.option(singleLine, { nil: undefined }),
      retry: fc.option(fc.nat({ max: 1_000_000 }), { nil: undefined }),
      comments: fc.option(fc.array(text, { minLength: 1, maxLength: 3 }), { nil: undefined }),
      hasData: fc.option(fc.boolean(), { nil: undefined }),
    },
    { requiredKeys: ['data'] },
  )
  .map((ev) => {
    const out: SseEvent = { data: ev.data };
    for (const k of ['event', 'id', 'retry', 'comments', 'hasData'] as const) {
      if (ev[k] !== undefined) (out as unknown as Record<string, unknown>)[k] = ev[k];
    }
    return out;
  });

describe('SseParser', () => {
  it('parses fields, multi-line data, comments, retry and ids', () => {
    const events = parseAll([
      ': keep-alive\n\n',
      'event: message\nid: 7\nretry: 1500\ndata: {"a":\ndata: 1}\n\n',
      'data\n\n',
      'id\n\n',
      'retry: soon\ndata: x\n\n',
      'foo: bar\n\n',
    ]);
    expect(events).toEqual([
      { data: '', hasData: false, comments: ['keep-alive'] },
      { event: 'message', id: '7', retry: 1500, data: '{"a":\n1}' },
      { data: '', hasData: true },
      { data: '', hasData: false, id: '' },
      { data: 'x' },
    ]);
  });

  it('accepts CR, LF and CRLF line endings, also split between CR and LF', () => {
    expect(parseAll(['data: a\r', '\ndata: b\r\r', 'data: c\n\n'])).toEqual([
      { data: 'a\nb' },
      { data: 'c' },
    ]);
    expect(parseAll(['data: a\r\n\r\n'])).toEqual([{ data: 'a' }]);
  });

  it('drops a leading BOM once and decodes UTF-8 split across chunks', () => {
    const bytes = new TextEncoder().encode('\uFEFFdata: h€llo 🎉\n\n');
    const chunks = [...bytes].map((b) => new Uint8Array([b]));
    expect(parseAll(chunks)).toEqual([{ data: 'h€llo 🎉' }]);
    expect(parseAll(['\uFEFFdata: a\n\n', '\uFEFFdata: b\n\n'])).toEqual([
      { data: 'a' },
      // a BOM later in the stream is part of the field name, which is then unknown
    ]);
  });

  it('discards an unterminated last event and ids containing NUL', () => {
    expect(parseAll(['data: done\n\ndata: partial'])).toEqual([{ data: 'done' }]);
    expect(parseAll(['id: a\0b\ndata: x\n\n'])).toEqual([{ data: 'x' }]);
  });

  it('parses lazily from an async byte stream', async () => {
    async function* source() {
      yield new TextEncoder().encode('data: 1\n\nda');
      yield 'ta: 2\n\n';
    }
    const seen: string[] = [];
    for await (const ev of parseSse(source())) seen.push(ev.data);
    expect(seen).toEqual(['1', '2']);
  });

  it('round-trips serialize → parse under arbitrary chunking and line endings (property)', () => {
    fc.assert(
      fc.property(
        fc.array(eventArb, { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.constantFrom('\n', '\r\n', '\r'),
        (events, cuts, eol) => {
          const wire = events.map(serializeSseEvent).join('').replace(/\n/g, eol);
          const bytes = new TextEncoder().encode(wire);
          const parsed = parseAll(chunk(bytes, cuts));
          expect(parsed).toEqual(events.map(normalise));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws on arbitrary bytes, however they are chunked (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 10 }), (bytes, cuts) => {
        const events = parseAll(chunk(bytes, cuts));
        for (const ev of events) expect(typeof ev.data).toBe('string');
        // Chunking never changes the result.
        expect(parseAll([bytes])).toEqual(events);
      }),
      { numRuns: 300 },
    );
  });
});

describe('serializeSseEvent', () => {
  it('writes comment-only keep-alives without a data line and priming events with one', () => {
    expect(serializeSseEvent({ data: '', comments: ['ping'] })).toBe(': ping\n\n');
    expect(serializeSseEvent({ data: '', id: '1', hasData: true })).toBe('id: 1\ndata:\n\n');
    expect(serializeSseEvent({ data: '' })).toBe('data:\n\n');
    expect(serializeSseEvent({ data: 'a\nb', event: 'e' })).toBe('event: e\ndata: a\ndata: b\n\n');
  });

  it('refuses fields that would break the framing', () => {
    expect(() => serializeSseEvent({ data: 'x', event: 'a\nb' })).toThrow(TypeError);
    expect(() => serializeSseEvent({ data: 'x', id: 'a\rb' })).toThrow(TypeError);
    expect(() => serializeSseEvent({ data: 'x', retry: -1 })).toThrow(TypeError);
  });
});
