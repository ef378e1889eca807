/**
 * The 2026-07-28 conformance reference upstream: a hand-written stateless MCP server on node:http
 * (SDK v1 only speaks the session-era wire). POST only; every request is self-contained (`_meta`,
 * mirrored headers); no sessions are minted or honoured; MRTR in place of server→client requests;
 * `subscriptions/listen` for list-changed notifications; Host/Origin validated like a localhost server.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { isLocalRequest } from '../local-host.js';
import { createDispatcher } from './dispatch.js';
import { isObject, type JsonObject, RpcCode, RpcFailure, validateModernRequest } from './protocol.js';
import { Reply, type RequestId } from './reply.js';
import { createStateCodec } from './request-state.js';

export interface ModernReferenceUpstreamOptions extends ModernEndpointOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string | undefined;
  /** Port. Default 0 (a free one). */
  port?: number | undefined;
  /** Largest request body accepted, bytes. Default 4 MiB. */
  maxBodyBytes?: number | undefined;
  /** Lifetime of a signed `requestState`, ms. Default 300 000. */
  requestStateTtlMs?: number | undefined;
  /** `ttlMs` of cacheable results (lists, discover, resources/read). Default 30 000. */
  cacheTtlMs?: number | undefined;
  /** Interval of `:` keep-alive comments on `subscriptions/listen` streams, ms. Default 15 000. */
  keepAliveMs?: number | undefined;
}

export interface ModernReferenceUpstream {
  /** Streamable HTTP endpoint `http://127.0.0.1:<port>/mcp`. */
  readonly url: string;
  readonly port: number;
  /** Open `subscriptions/listen` streams. */
  readonly listenerCount: number;
  close(): Promise<void>;
}

function positiveInt(name: string, value: number | undefined, fallback: number, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min) throw new TypeError(`"${name}" must be an integer >= ${min}`);
  return v;
}

function bareError(res: ServerResponse, status: number, code: number, message: string, id: RequestId | null) {
  if (res.headersSent) return void res.end();
  const body = JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const isId = (v: unknown): v is RequestId =>
  typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));

export interface ModernEndpointOptions {
  requestStateTtlMs?: number | undefined;
  cacheTtlMs?: number | undefined;
  keepAliveMs?: number | undefined;
}

/** The stateless MCP endpoint logic, mountable behind any node:http server (see the dual-era upstream). */
export interface ModernEndpoint {
  /** Serve one POST whose body was already read and parsed (Host/Origin already checked). */
  handlePost(req: IncomingMessage, res: ServerResponse, message: unknown): Promise<void>;
  /** Any other HTTP method: 405 (the revision is POST-only). */
  handleOther(res: ServerResponse): void;
  readonly listenerCount: number;
  /** End the open `subscriptions/listen` streams. */
  close(): void;
}

export function createModernEndpoint(options: ModernEndpointOptions = {}): ModernEndpoint {
  const dispatcher = createDispatcher({
    codec: createStateCodec(positiveInt('requestStateTtlMs', options.requestStateTtlMs, 300_000)),
    cacheTtlMs: positiveInt('cacheTtlMs', options.cacheTtlMs, 30_000, 0),
    keepAliveMs: positiveInt('keepAliveMs', options.keepAliveMs, 15_000),
  });
  return {
    get listenerCount() {
      return dispatcher.listenerCount;
    },
    close: () => dispatcher.closeListeners(),
    handleOther(res) {
      res.setHeader('allow', 'POST');
      bareError(res, 405, RpcCode.InvalidRequest, 'Method not allowed', null);
    },
    async handlePost(req, res, message) {
      if (!isObject(message) || message.jsonrpc !== '2.0') {
        return bareError(res, 400, RpcCode.InvalidRequest, 'Expected one JSON-RPC 2.0 message', null);
      }
      const id = isId(message.id) ? message.id : null;
      if (typeof message.method !== 'string') {
        return bareError(res, 400, RpcCode.InvalidRequest, 'Clients must not send responses', id);
      }
      if (!('id' in message)) {
        // Notifications: nothing in this server reacts to one (cancellation is closing the stream).
        res.writeHead(202).end();
        return;
      }
      if (id === null) return bareError(res, 400, RpcCode.InvalidRequest, 'Invalid request id', null);
      if ('params' in message && !isObject(message.params)) {
        return bareError(res, 400, RpcCode.InvalidParams, 'params must be an object', id);
      }
      const params = (message.params as JsonObject | undefined) ?? {};
      const reply = new Reply(res, id);
      const aborter = new AbortController();
      res.once('close', () => aborter.abort());
      try {
        const ctx = validateModernRequest(req.headers, message.method, params);
        await dispatcher.handle(message.method, params, ctx, req.headers, reply, aborter.signal);
      } catch (err) {
        reply.error(
          err instanceof RpcFailure ? err : new RpcFailure(500, RpcCode.InternalError, 'Internal error'),
        );
      }
    },
  };
}

/**
 * Start the 2026-07-28 reference upstream alone (the dual-era `startReferenceUpstream` mounts the same
 * endpoint next to the session-era one).
 * @example
 * const up = await startModernReferenceUpstream();
 * // conformance server --url ${up.url} --spec-version 2026-07-28
 * await up.close();
 */
export async function startModernReferenceUpstream(
  options: ModernReferenceUpstreamOptions = {},
): Promise<ModernReferenceUpstream> {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new TypeError('"port" must be an integer 0-65535');
  const maxBodyBytes = positiveInt('maxBodyBytes', options.maxBodyBytes, 4 * 1024 * 1024);
  const endpoint = createModernEndpoint(options);
  const host = options.host ?? '127.0.0.1';

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/mcp') return bareError(res, 404, RpcCode.MethodNotFound, 'Not found', null);
    if (!isLocalRequest(req.headers)) {
      return bareError(res, 403, RpcCode.InvalidRequest, 'Host or Origin not allowed', null);
    }
    if (req.method !== 'POST') return endpoint.handleOther(res);
    const raw = await readBody(req, maxBodyBytes);
    if (raw === undefined) return bareError(res, 413, RpcCode.InvalidRequest, 'Request body too large', null);
    let message: unknown;
    try {
      message = JSON.parse(raw.toString('utf8'));
    } catch {
      return bareError(res, 400, RpcCode.ParseError, 'Parse error', null);
    }
    return endpoint.handlePost(req, res, message);
  }

  const sockets = new Set<Socket>();
  const http: Server = createServer((req, res) => {
    handle(req, res).catch(() => bareError(res, 500, RpcCode.InternalError, 'Internal error', null));
  });
  http.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const bound = (http.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/mcp`,
    port: bound,
    get listenerCount() {
      return endpoint.listenerCount;
    },
    close() {
      closing ??= (async () => {
        endpoint.close();
        const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await stopped;
      })();
      return closing;
    },
  };
}
