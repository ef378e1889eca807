/** Serialise SSE events to the wire format (LF line endings). */
import type { SseEvent } from './event.js';

const NEWLINE = /\r\n|\r|\n/;

function hasDataLines(ev: SseEvent): boolean {
  if (ev.hasData !== undefined) return ev.hasData || ev.data !== '';
  if (ev.data !== '') return true;
  return (
    ev.event === undefined &&
    ev.id === undefined &&
    ev.retry === undefined &&
    (ev.comments?.length ?? 0) === 0
  );
}

/**
 * One event as text, terminated by a blank line. Multi-line `data` and comments become several lines.
 * @throws TypeError when `event` or `id` contains a line break, or `retry` is not a non-negative integer.
 */
export function serializeSseEvent(ev: SseEvent): string {
  let out = '';
  if (ev.comments) {
    for (const c of ev.comments) {
      for (const line of c.split(NEWLINE)) out += line === '' ? ':\n' : `: ${line}\n`;
    }
  }
  if (ev.event !== undefined && ev.event !== '') {
    if (NEWLINE.test(ev.event)) throw new TypeError('SSE "event" must not contain line breaks');
    out += `event: ${ev.event}\n`;
  }
  if (ev.id !== undefined) {
    if (NEWLINE.test(ev.id) || ev.id.includes('\0')) {
      throw new TypeError('SSE "id" must not contain line breaks or NUL');
    }
    out += ev.id === '' ? 'id\n' : `id: ${ev.id}\n`;
  }
  if (ev.retry !== undefined) {
    if (!Number.isSafeInteger(ev.retry) || ev.retry < 0) {
      throw new TypeError('SSE "retry" must be a non-negative integer');
    }
    out += `retry: ${ev.retry}\n`;
  }
  // An event with no field at all cannot be framed: it is written as one empty data line.
  if (hasDataLines(ev) || out === '') {
    for (const line of ev.data.split(NEWLINE)) out += line === '' ? 'data:\n' : `data: ${line}\n`;
  }
  return `${out}\n`;
}
