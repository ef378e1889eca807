/**
 * Incremental Server-Sent Events parser (WHATWG HTML §9.2.6 "Interpreting an event stream").
 *
 * Bytes may be split anywhere: inside a multi-byte UTF-8 sequence, between CR and LF, inside a field
 * name. A leading BOM is dropped. Unlike a browser, blocks without a `data:` line (comment-only
 * keep-alives, bare `id:` or `retry:`) are emitted too, because a proxy must relay them.
 * The parser never throws on any input.
 */
import type { SseEvent } from './event.js';

const BOM = '\uFEFF';

export class SseParser {
  #decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  #buffer = '';
  #start = true;
  #skipLf = false;
  // Fields of the event being built.
  #data: string[] = [];
  #hasField = false;
  #event: string | undefined;
  #id: string | undefined;
  #retry: number | undefined;
  #comments: string[] | undefined;

  /** Feed a chunk; returns the events it completed (possibly none). */
  push(chunk: Uint8Array | string): SseEvent[] {
    const text = typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true });
    return this.#feed(text);
  }

  /** Signal end of input; flushes the decoder. An unterminated last event is discarded (per spec). */
  end(): SseEvent[] {
    const rest = this.#decoder.decode();
    const events = rest ? this.#feed(rest) : [];
    this.#buffer = '';
    this.#reset();
    return events;
  }

  #feed(text: string): SseEvent[] {
    let input = text;
    if (this.#start && input.length > 0) {
      this.#start = false;
      if (input.startsWith(BOM)) input = input.slice(1);
    }
    if (this.#skipLf && input.length > 0) {
      this.#skipLf = false;
      if (input.charCodeAt(0) === 10) input = input.slice(1);
    }
    const buf = this.#buffer + input;
    const out: SseEvent[] = [];
    let pos = 0;
    const len = buf.length;
    while (pos < len) {
      let lf = buf.indexOf('\n', pos);
      let cr = buf.indexOf('\r', pos);
      if (lf === -1) lf = len;
      if (cr === -1) cr = len;
      const eol = Math.min(lf, cr);
      if (eol === len) break;
      const line = buf.slice(pos, eol);
      if (eol === cr) {
        if (eol + 1 < len) {
          pos = buf.charCodeAt(eol + 1) === 10 ? eol + 2 : eol + 1;
        } else {
          pos = eol + 1;
          this.#skipLf = true;
        }
      } else {
        pos = eol + 1;
      }
      this.#line(line, out);
    }
    this.#buffer = pos === 0 ? buf : buf.slice(pos);
    return out;
  }

  #line(line: string, out: SseEvent[]): void {
    if (line.length === 0) {
      if (this.#hasField) out.push(this.#build());
      this.#reset();
      return;
    }
    const colon = line.indexOf(':');
    if (colon === 0) {
      const text = line.charCodeAt(1) === 32 ? line.slice(2) : line.slice(1);
      if (this.#comments) this.#comments.push(text);
      else this.#comments = [text];
      this.#hasField = true;
      return;
    }
    let field: string;
    let value: string;
    if (colon === -1) {
      field = line;
      value = '';
    } else {
      field = line.slice(0, colon);
      value = line.charCodeAt(colon + 1) === 32 ? line.slice(colon + 2) : line.slice(colon + 1);
    }
    switch (field) {
      case 'data':
        this.#data.push(value);
        this.#hasField = true;
        break;
      case 'event':
        this.#event = value === '' ? undefined : value;
        this.#hasField = true;
        break;
      case 'id':
        if (!value.includes('\0')) {
          this.#id = value;
          this.#hasField = true;
        }
        break;
      case 'retry':
        if (/^\d+$/.test(value)) {
          this.#retry = Number(value);
          this.#hasField = true;
        }
        break;
      default:
        // Unknown fields are ignored (spec).
        break;
    }
  }

  #build(): SseEvent {
    const ev: SseEvent = { data: this.#data.join('\n') };
    if (ev.data === '') ev.hasData = this.#data.length > 0;
    if (this.#event !== undefined) ev.event = this.#event;
    if (this.#id !== undefined) ev.id = this.#id;
    if (this.#retry !== undefined) ev.retry = this.#retry;
    if (this.#comments) ev.comments = this.#comments;
    return ev;
  }

  #reset(): void {
    this.#data = [];
    this.#hasField = false;
    this.#event = undefined;
    this.#id = undefined;
    this.#retry = undefined;
    this.#comments = undefined;
  }
}

/**
 * Parse a byte (or string) stream into SSE events, lazily: each event is yielded as soon as its
 * terminating blank line has arrived. Breaking out of the loop stops reading the source (its
 * `return()` is called, which destroys a Node stream).
 */
export async function* parseSse(source: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  const parser = new SseParser();
  for await (const chunk of source) {
    const events = parser.push(chunk);
    for (const ev of events) yield ev;
  }
  for (const ev of parser.end()) yield ev;
}
