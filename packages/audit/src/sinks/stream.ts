/** JSON-lines sink over a Writable stream (stdout by default). */
import type { Writable } from 'node:stream';
import type { AuditEvent } from '../event.js';
import type { AuditSink } from './sink.js';
import { toJsonLines } from './sink.js';

export interface StreamSinkOptions {
  /** Default `process.stdout`. The stream is never closed by the sink. */
  stream?: Writable | undefined;
  /** Default `stdout`. */
  name?: string | undefined;
}

export function createStreamSink(options: StreamSinkOptions = {}): AuditSink {
  const stream = options.stream ?? process.stdout;
  if (typeof stream?.write !== 'function') throw new TypeError('"stream" must be a Writable');
  return {
    name: options.name ?? 'stdout',
    jsonLines: true,
    write(events: readonly AuditEvent[], text?: string): Promise<void> {
      return new Promise((resolve, reject) => {
        // The callback fires once the chunk is handed off; a stream that never drains keeps this
        // promise pending, so the queue in front of the sink fills and drops instead of growing.
        stream.write(text ?? toJsonLines(events), (err) => (err ? reject(err) : resolve()));
      });
    },
  };
}
