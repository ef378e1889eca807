/**
 * The bounded SSE data reader of the answer observer against proxy-core's spec parser (`SseParser`): for streams whose
 * events fit the bound, both must see the same event data whatever the chunking and line endings;
 * beyond the bound, the reader skips the event (bounded memory) and resynchronises on the next one.
 */
import { describe, expect, it } from '@jest/globals';
import { SseParser } from '../../src/index.js';
import fc from 'fast-check';
import { SseDataReader } from '../../src/observe/sse-data-reader.js';

/** The data of every event proxy-core's parser emits that carries data (what the reader yields). */
function referenceData(chunks: Buffer[]): string[] {
  const parser = new SseParser();
  const events = [...chunks.flatMap((c) => parser.push(c)), ...parser.end()];
  return events.filter((e) => e.data !== '' || e.hasData === true).map((e) => e.data);
}

function readerData(chunks: Buffer[], max = 1 << 20): string[] {
  const reader = new SseDataReader(max);
  return chunks.flatMap((c) => reader.push(c));
}

/** Splits `bytes` at the given offsets (anywhere: inside UTF-8 sequences, between CR and LF). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  out.push(bytes.subarray(from));
  return out;
}

const eol = fc.constantFrom('\n', '\r', '\r\n');
const text = fc.string({ unit: fc.constantFrom('a', 'é', '€', '😀', ' ', ':', '{', '"', 'd') });
const line = fc.oneof(
  fc.tuple(fc.constantFrom('data:', 'data: ', 'data'), text).map(([f, v]) => (f === 'data' ? f : f + v)),
  fc
    .tuple(fc.constantFrom('event: ', 'id: ', 'retry: ', ': ', 'datax: ', 'x: '), text)
    .map(([f, v]) => f + v),
);
const stream = fc
  .array(fc.tuple(fc.array(fc.tuple(line, eol), { minLength: 1, maxLength: 4 }), eol), { maxLength: 6 })
  .map((events) => events.map(([lines, end]) => lines.map(([l, e]) => l + e).join('') + end).join(''));

describe('SseDataReader', () => {
  it('yields the same event data as proxy-core SseParser for any chunking and line endings (property)', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 8 }), fc.boolean(), (body, cuts, bom) => {
        const bytes = Buffer.from(`${bom ? '\uFEFF' : ''}${body}`, 'utf8');
        expect(readerData(split(bytes, cuts))).toEqual(referenceData([bytes]));
      }),
      { numRuns: 500 },
    );
  });

  it('reads MCP messages split inside a multi-byte character and between CR and LF', () => {
    const body = Buffer.from('event: message\r\ndata: {"jsonrpc":"2.0","id":1,"result":{"t":"€"}}\r\n\r\n');
    const euro = body.indexOf(Buffer.from('€')) + 1;
    const crlf = body.indexOf('\r\n\r\n') + 1;
    const data = readerData(split(body, [euro, crlf]));
    expect(data).toEqual(['{"jsonrpc":"2.0","id":1,"result":{"t":"€"}}']);
  });

  it('skips an event larger than the bound and still reads the next one', () => {
    const reader = new SseDataReader(64);
    const huge = `data: ${'x'.repeat(10_000)}\n\n`;
    const out = [
      ...reader.push(huge.slice(0, 5_000)),
      ...reader.push(huge.slice(5_000)),
      ...reader.push('data: {"id":2}\n\n'),
    ];
    expect(out).toEqual(['{"id":2}']);
    // Many small data lines adding up past the bound are skipped too.
    expect(reader.push(`${'data: 0123456789\n'.repeat(10)}\ndata: ok\n\n`)).toEqual(['ok']);
  });
});
