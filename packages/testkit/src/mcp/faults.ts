import type { ServerResponse } from 'node:http';

/**
 * Failure modes the upstream can simulate on streamable-HTTP POSTs that carry a JSON-RPC request:
 * - `reset-mid-stream`: 200 `text/event-stream`, one complete `notifications/message` event, then the
 *   connection is destroyed (no terminating chunk).
 * - `stall-headers`: the request is read and never answered (no status line).
 * - `stall-body`: 200 `text/event-stream` headers and a partial event, then nothing more.
 * - `invalid-json`: 200 `application/json` with a body that is not JSON.
 * - `http-500`: 500 with a plain-text body (not JSON-RPC).
 */
export type UpstreamFault = 'reset-mid-stream' | 'stall-headers' | 'stall-body' | 'invalid-json' | 'http-500';

export const UPSTREAM_FAULTS: readonly UpstreamFault[] = [
  'reset-mid-stream',
  'stall-headers',
  'stall-body',
  'invalid-json',
  'http-500',
];

/** Answers (or deliberately fails to answer) `res` according to `fault`. */
export function applyFault(fault: UpstreamFault, res: ServerResponse): void {
  switch (fault) {
    case 'stall-headers':
      return;
    case 'stall-body':
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('event: message\ndata: {"jsonrpc":"2.0",');
      return;
    case 'invalid-json':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"jsonrpc":"2.0","result": this is not json');
      return;
    case 'http-500':
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('upstream exploded');
      return;
    case 'reset-mid-stream': {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const event = {
        jsonrpc: '2.0',
        method: 'notifications/message',
        params: { level: 'info', data: 'partial' },
      };
      res.write(`event: message\ndata: ${JSON.stringify(event)}\n\n`, () => {
        setImmediate(() => res.destroy());
      });
      return;
    }
  }
}
