/**
 * Response transforms that work on JSON and SSE bodies alike, message by message.
 * (Signatures are the public contract; implementation lives in this file.)
 */
import type { JsonRpcMessage } from './jsonrpc.js';
import type { ProxyResponse } from './response.js';

export interface MapMessagesOptions {
  /** Largest JSON body buffered for a transform, in bytes. Default 16 MiB. */
  maxJsonBytes?: number | undefined;
}

/**
 * Return a response whose JSON-RPC messages are passed through `fn`, whether the body is a JSON
 * object or an SSE stream (each `message` event whose data parses as JSON-RPC is mapped; other events
 * pass unchanged, event by event, never buffering the stream). `fn` may return the same message.
 * `content-length` is removed when the body changes. Non-JSON/non-SSE bodies are returned unchanged.
 */
export async function mapResponseMessages(
  res: ProxyResponse,
  fn: (message: JsonRpcMessage) => JsonRpcMessage | Promise<JsonRpcMessage>,
  options?: MapMessagesOptions,
): Promise<ProxyResponse> {
  void res;
  void fn;
  void options;
  throw new Error('not implemented yet');
}
