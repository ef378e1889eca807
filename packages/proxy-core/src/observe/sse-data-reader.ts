/**
 * Minimal incremental SSE reader used only to *observe* a relayed byte stream (see `observeAnswer`): it yields the `data`
 * of each complete event and ignores other fields. Bytes are never altered (the caller passes the
 * original chunks on). Memory is bounded: an event larger than `maxEventBytes` is skipped.
 *
 * Not proxy-core's `SseParser` on purpose: that parser buffers a whole event however large it grows,
 * while this tap reads a stream it does not own and must stay bounded whatever the upstream sends.
 * Within the bound both yield the same data (pinned by a property test against `SseParser`).
 */
import { StringDecoder } from 'node:string_decoder';

export class SseDataReader {
  readonly #decoder = new StringDecoder('utf8');
  readonly #max: number;
  #line = '';
  #data: string[] = [];
  #dataLength = 0;
  #oversized = false;
  #lineOversized = false;
  #skipLf = false;
  #start = true;

  constructor(maxEventBytes: number) {
    this.#max = maxEventBytes;
  }

  /** Feed a chunk; returns the data of every event it completed. */
  push(chunk: Uint8Array | string): string[] {
    let text = typeof chunk === 'string' ? chunk : this.#decoder.write(chunk);
    if (this.#start && text.length > 0) {
      this.#start = false;
      // WHATWG SSE: a leading byte order mark is not part of the first line.
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    const out: string[] = [];
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      if (c === 10 && this.#skipLf && i === start) {
        this.#skipLf = false;
        start = i + 1;
        continue;
      }
      this.#skipLf = c === 13;
      this.#appendLine(text.slice(start, i));
      this.#endLine(out);
      start = i + 1;
    }
    if (start < text.length) {
      this.#skipLf = false;
      this.#appendLine(text.slice(start));
    }
    return out;
  }

  #appendLine(part: string): void {
    if (this.#lineOversized) return;
    this.#line += part;
    if (this.#line.length > this.#max) {
      this.#lineOversized = true;
      this.#line = '';
    }
  }

  #endLine(out: string[]): void {
    const line = this.#line;
    this.#line = '';
    if (this.#lineOversized) {
      this.#lineOversized = false;
      this.#oversized = true;
      this.#data = [];
      return;
    }
    if (line === '') {
      if (this.#data.length > 0 && !this.#oversized) out.push(this.#data.join('\n'));
      this.#reset();
      return;
    }
    if (this.#oversized) return;
    if (line.startsWith('data')) {
      const rest = line.slice(4);
      if (rest !== '' && !rest.startsWith(':')) return; // a field named e.g. `datax`
      const value = rest.startsWith(': ') ? rest.slice(2) : rest.slice(1);
      this.#dataLength += value.length;
      if (this.#dataLength > this.#max) {
        this.#oversized = true;
        this.#data = [];
        return;
      }
      this.#data.push(value);
    }
  }

  #reset(): void {
    this.#data = [];
    this.#dataLength = 0;
    this.#oversized = false;
  }
}
