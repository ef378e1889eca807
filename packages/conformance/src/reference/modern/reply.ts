/**
 * One POST's answer: a JSON body, or — as soon as the handler sends a notification — an SSE stream
 * whose last event is the JSON-RPC response (2026-07-28 Streamable HTTP; no event ids: no resumption).
 */
import type { ServerResponse } from 'node:http';
import type { JsonObject, RpcFailure } from './protocol.js';

export type RequestId = string | number;

export class Reply {
  private sse = false;

  constructor(
    private readonly res: ServerResponse,
    readonly id: RequestId,
  ) {}

  get open(): boolean {
    return !this.res.writableEnded && !this.res.destroyed;
  }

  /** Start the SSE stream now (idempotent). */
  startStream(): void {
    if (this.sse || !this.open) return;
    this.sse = true;
    this.res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    });
    this.res.flushHeaders();
  }

  /** Write one JSON-RPC message as an SSE event (starts the stream). */
  event(message: JsonObject): void {
    this.startStream();
    if (this.open) this.res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
  }

  /** `:` comment line (keep-alive). */
  comment(text: string): void {
    if (this.sse && this.open) this.res.write(`: ${text}\n\n`);
  }

  result(result: JsonObject): void {
    this.finish({ jsonrpc: '2.0', id: this.id, result }, 200);
  }

  error(failure: RpcFailure): void {
    const error: JsonObject = { code: failure.code, message: failure.message };
    if (failure.data !== undefined) error.data = failure.data;
    this.finish({ jsonrpc: '2.0', id: this.id, error }, failure.status);
  }

  private finish(message: JsonObject, status: number): void {
    if (!this.open) return;
    if (this.sse) {
      this.event(message);
      this.res.end();
      return;
    }
    const body = JSON.stringify(message);
    this.res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    this.res.end(body);
  }
}
