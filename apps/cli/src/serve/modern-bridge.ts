/**
 * The stdio bridge's 2026-07-28 (stateless) path: each JSON-RPC message a modern stdio client writes is
 * POSTed on its own to the local proxy with the revision's mirrored headers, and whatever comes back
 * (one JSON body, or an SSE stream of notifications ending with the response) is handed to the stdio
 * client as it arrives. No initialize, no session id, no GET stream; requests run concurrently.
 *
 * The MCP SDK's client transport only speaks the session era, hence this small undici client.
 */
import { isJsonContentType, isSseContentType, SseParser } from '@bastion-mcp/proxy-core';
import { Agent, type Dispatcher, request } from 'undici';
import type { CliLogger } from './logger.js';
import { paramsOf, standardHeaders } from './modern-wire.js';
import { createParamHeaderRegistry } from './param-headers.js';

type Id = string | number;

/** A JSON-RPC request or notification from the stdio client. */
export interface OutgoingMessage {
  jsonrpc: '2.0';
  id?: Id | undefined;
  method: string;
  params?: unknown;
}

/** Any JSON-RPC message for the stdio client. */
export type IncomingMessage = Record<string, unknown> & { jsonrpc: '2.0' };

/**
 * JSON-RPC error code of the answers the bridge makes up itself (proxy unreachable, HTTP error without
 * a JSON-RPC body, stream ended early): the implementation-defined server-error code the session-era
 * path uses too, outside the -32020…-32099 range the revision reserves.
 */
export const BRIDGE_ERROR_CODE = -32000;

export interface ModernBridgeOptions {
  /** The local proxy's MCP endpoint. */
  url: string;
  logger: Pick<CliLogger, 'debug' | 'info' | 'warn' | 'error'>;
  /** Writes one message to the stdio client (awaited, in order, per request). */
  deliver(message: IncomingMessage): Promise<void> | void;
  /**
   * undici dispatcher for the POSTs. Default: a private Agent without headers/body timeouts (a tool call
   * may legitimately run for long and a `subscriptions/listen` stream stays open; the proxy enforces the
   * upstream timeouts), destroyed by `close()`.
   */
  dispatcher?: Dispatcher | undefined;
}

export interface ModernBridge {
  /**
   * POST one message with protocol version `version`; resolves once its response (or stream) is fully
   * relayed. Never rejects: failures become a JSON-RPC error for the request's id.
   */
  post(message: OutgoingMessage, version: string): Promise<void>;
  /** Abort the in-flight request `id` (closing its stream is the revision's cancellation). */
  cancel(id: Id): boolean;
  /** Requests still waiting for their response. */
  readonly inFlight: number;
  /** Abort everything in flight (no further messages are delivered) and release the connections. */
  close(): Promise<void>;
}

/** Upper bound of `tools/list` pages fetched to learn `x-mcp-header` annotations. */
const MAX_PREFETCH_PAGES = 20;

const CLIENT_META_KEYS = [
  'io.modelcontextprotocol/protocolVersion',
  'io.modelcontextprotocol/clientCapabilities',
  'io.modelcontextprotocol/clientInfo',
];

const keyOf = (id: Id) => `${typeof id}:${id}`;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function isMessage(v: unknown): v is IncomingMessage {
  return isObject(v) && v.jsonrpc === '2.0';
}

export function createModernBridge(options: ModernBridgeOptions): ModernBridge {
  const { url, logger } = options;
  const dispatcher = options.dispatcher ?? new Agent({ headersTimeout: 0, bodyTimeout: 0 });
  const ownDispatcher = options.dispatcher === undefined;
  const paramHeaders = createParamHeaderRegistry();
  const active = new Map<string, AbortController>();
  const closing = new AbortController();
  let closed = false;
  let prefetch: Promise<void> | undefined;

  /**
   * A `tools/call` before any `tools/list` (a client that cached the list): list the tools once
   * (every page), with the call's version and `_meta`, to learn which arguments need `Mcp-Param-*`.
   */
  function learnTools(version: string, meta: unknown): Promise<void> {
    prefetch ??= (async () => {
      let cursor: unknown;
      for (let page = 0; page < MAX_PREFETCH_PAGES; page++) {
        const body = {
          jsonrpc: '2.0' as const,
          id: `bastion-bridge:tools/list:${page}`,
          method: 'tools/list',
          params: { _meta: clientMeta(meta), ...(cursor ? { cursor } : {}) },
        };
        const res = await request(url, {
          method: 'POST',
          headers: standardHeaders(body, version),
          body: JSON.stringify(body),
          dispatcher,
          signal: closing.signal,
        });
        let result: unknown;
        await readMessages(
          res,
          async (m) => {
            if (m.id === body.id && isObject(m.result)) result = m.result;
          },
          () => {},
        );
        if (!isObject(result)) return;
        paramHeaders.learn(result);
        cursor = result.nextCursor;
        if (typeof cursor !== 'string' || cursor === '') return;
      }
    })().catch((err: Error) => {
      logger.debug({ event: 'bridge_tools_prefetch_failed' }, err.message);
    });
    return prefetch;
  }

  async function post(message: OutgoingMessage, version: string): Promise<void> {
    const id = message.id ?? undefined;
    const isRequest = typeof id === 'string' || typeof id === 'number';
    const aborter = new AbortController();
    const key = isRequest ? keyOf(id) : undefined;
    if (key !== undefined) active.set(key, aborter);
    const live = () => !closed && !aborter.signal.aborted;
    let answered = false;
    let responded = false;

    const deliver = async (m: IncomingMessage) => {
      if (!live()) return;
      let out = m;
      if (isRequest && !('method' in m) && (m.id === id || (m.id === null && 'error' in m))) {
        answered = true;
        // One request per POST: an error that could not name its request (`id: null`) is this one's.
        if (m.id === null) out = { ...m, id };
        if (message.method === 'tools/list' && isObject(m.result)) {
          const result = paramHeaders.learn(m.result, (tool, why) =>
            logger.warn({ event: 'bridge_tool_dropped', tool }, `tool "${tool}" hidden: ${why}`),
          );
          if (result !== m.result) out = { ...out, result };
        }
      }
      await options.deliver(out);
    };
    const fail = async (text: string, data?: Record<string, unknown>) => {
      if (!isRequest || answered || !live()) return;
      answered = true;
      await options.deliver({
        jsonrpc: '2.0',
        id,
        error: { code: BRIDGE_ERROR_CODE, message: text, ...(data ? { data } : {}) },
      });
    };

    try {
      const params = paramsOf(message);
      if (message.method === 'tools/call' && !paramHeaders.learned) await learnTools(version, params?._meta);
      const headers = {
        ...standardHeaders(message, version),
        ...(message.method === 'tools/call' ? paramHeaders.headersFor(params?.name, params?.arguments) : {}),
      };
      logger.debug({ event: 'bridge_to_remote', method: message.method, id, version }, 'modern POST');
      const res = await request(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(message),
        dispatcher,
        signal: aborter.signal,
      });
      responded = true;
      const status = res.statusCode;
      await readMessages(res, deliver, () =>
        logger.warn({ event: 'bridge_bad_event', method: message.method }, 'non-JSON-RPC SSE event'),
      );
      if (!isRequest) {
        if (status >= 400) {
          logger.warn(
            { event: 'bridge_notification_refused', method: message.method, status },
            'notification refused',
          );
        }
        return;
      }
      if (status >= 400) {
        await fail(`The MCP server answered HTTP ${status} to ${message.method}`, { status });
      } else {
        await fail(`The MCP server ended the HTTP ${status} response to ${message.method} without a result`, {
          status,
        });
      }
    } catch (err) {
      if (!live()) return;
      const text = (err as Error).message;
      logger.error({ event: 'bridge_send_failed', method: message.method }, text);
      await fail(
        responded
          ? `The response to ${message.method} broke off: ${text}`
          : `Bastion could not reach the proxy: ${text}`,
      );
    } finally {
      if (key !== undefined && active.get(key) === aborter) active.delete(key);
    }
  }

  return {
    post: (message, version) =>
      post(message, version).catch((err: Error) => {
        // Only `deliver` can throw here (stdout gone): nothing left to tell the client.
        logger.warn({ event: 'bridge_deliver_failed', method: message.method }, err.message);
      }),
    cancel(id) {
      const aborter = active.get(keyOf(id));
      if (!aborter) return false;
      aborter.abort();
      return true;
    },
    get inFlight() {
      return active.size;
    },
    async close() {
      if (closed) return;
      closed = true;
      closing.abort();
      for (const aborter of active.values()) aborter.abort();
      active.clear();
      if (ownDispatcher) await dispatcher.destroy();
    },
  };
}

/**
 * Hand every JSON-RPC message of a response to `onMessage`, in order: each SSE event's data as it
 * arrives, or the JSON body (one message, or an array of them). Any other body is discarded.
 */
async function readMessages(
  res: Dispatcher.ResponseData,
  onMessage: (m: IncomingMessage) => Promise<void>,
  onBadEvent: () => void,
): Promise<void> {
  const ct = String(res.headers['content-type'] ?? '').toLowerCase();
  if (isSseContentType(ct)) {
    const parser = new SseParser();
    const relay = async (events: ReturnType<SseParser['push']>) => {
      for (const event of events) {
        if (event.data === '') continue; // keep-alive comments, priming events
        const parsed = parseJson(event.data);
        if (isMessage(parsed)) await onMessage(parsed);
        else onBadEvent();
      }
    };
    for await (const chunk of res.body) await relay(parser.push(chunk as Buffer));
    await relay(parser.end());
  } else if (isJsonContentType(ct)) {
    const parsed = parseJson(await res.body.text());
    for (const m of Array.isArray(parsed) ? parsed : [parsed]) if (isMessage(m)) await onMessage(m);
  } else {
    await res.body.dump();
  }
}

/** The client-describing `_meta` keys of a request (not its progress token or trace context). */
function clientMeta(meta: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!isObject(meta)) return out;
  for (const key of CLIENT_META_KEYS) if (key in meta) out[key] = meta[key];
  return out;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
