/**
 * The proxy's node:http request handler: built-in and middleware routes, request guards, parse-once,
 * the middleware chain with the forwarder as terminal, and the edge (errors → answers, bodies → wire).
 * Stateless: nothing is kept between requests.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { errorToResponse, httpError } from '../edge/error-to-response.js';
import { writeResponse } from '../edge/write-response.js';
import { ProxyCoreErrorCode, ProxyHttpError } from '../errors.js';
import { Exchange, type ExchangeLogger, type RouteKind, silentLogger } from '../exchange.js';
import { createForwarder, type Forwarder } from '../forwarder/forwarder.js';
import { forwardableRequestHeaders } from '../forwarder/headers.js';
import { baseDir } from '../forwarder/url.js';
import { BodyLimitError, readBody } from '../internal/body.js';
import { type JsonRpcId, type JsonRpcMessage, JsonRpcErrorCode } from '../jsonrpc.js';
import { composeChain, type Middleware, type ReadinessStatus, type Terminal } from '../middleware.js';
import { jsonResponse, type ProxyResponse } from '../response.js';
import { createOriginPolicy, hostAllowed, originAllowed } from './origin-check.js';
import { DEFAULT_MAX_BODY_BYTES, type ProxyHandlerOptions } from './options.js';
import { parseJsonRpc, RequestRejected } from './parse-request.js';
import { collectRoutes, matchRoute } from './routes.js';

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, ReadinessStatus>;
}

export interface CloseOptions {
  /** How long in-flight requests may take to finish, ms. Default: the handler's `closeGraceMs` (10 000). */
  graceMs?: number | undefined;
}

export interface ProxyHandler {
  /** The node:http `request` listener. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** `/ready` aggregated over the middlewares. */
  readiness(): ReadinessReport;
  /** Requests currently being served. */
  readonly inFlight: number;
  /**
   * Graceful stop: new requests get 503; GET SSE streams are ended cleanly at once; other in-flight
   * requests get `graceMs` to finish, then SSE bodies are ended cleanly and the rest aborted; pools and
   * middlewares are closed. Does not close a listening server (see `startProxyServer`).
   */
  close(options?: CloseOptions): Promise<void>;
  /** Resolves when `close()` has aborted what remained at its deadline (internal hook for the server). */
  readonly options: Readonly<{ path: string; transport: 'streamable-http' | 'sse'; via: string }>;
}

const REQUEST_ID = /^[\w.:@/+=-]{1,200}$/;

interface InFlight {
  abort: AbortController;
  done: Promise<void>;
}

function validate(options: ProxyHandlerOptions) {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
  const transport = options.transport ?? 'streamable-http';
  if (transport !== 'streamable-http' && transport !== 'sse') {
    throw new TypeError('"transport" must be "streamable-http" or "sse"');
  }
  const path = options.path ?? (transport === 'sse' ? '/sse' : '/mcp');
  if (typeof path !== 'string' || !path.startsWith('/') || path.includes('?') || path === '/') {
    throw new TypeError('"path" must be an absolute path such as "/mcp"');
  }
  if (path === '/health' || path === '/ready')
    throw new TypeError('"path" must not be "/health" or "/ready"');
  const maxBodyBytes = options.limits?.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new TypeError('"limits.maxBodyBytes" must be a positive integer');
  }
  const closeGraceMs = options.closeGraceMs ?? 10_000;
  if (!Number.isSafeInteger(closeGraceMs) || closeGraceMs < 0) {
    throw new TypeError('"closeGraceMs" must be a non-negative integer (ms)');
  }
  const middlewares = options.middlewares ?? [];
  if (!Array.isArray(middlewares)) throw new TypeError('"middlewares" must be an array');
  if (options.logger !== undefined && typeof options.logger?.warn !== 'function') {
    throw new TypeError('"logger" must be a pino-compatible logger');
  }
  const via = options.via ?? `bastion-${randomBytes(4).toString('hex')}`;
  if (typeof via !== 'string' || !/^[\w.:-]{1,64}$/.test(via)) {
    throw new TypeError('"via" must be a token of letters, digits, ".", ":", "_" or "-"');
  }
  return {
    transport,
    path,
    maxBodyBytes,
    closeGraceMs,
    middlewares: middlewares as readonly Middleware[],
    via,
  };
}

/** Response headers that let a browser client on an allowed Origin read MCP answers. */
function corsHeaders(origin: string): Record<string, string> {
  return {
    'access-control-allow-origin': origin,
    vary: 'Origin',
    'access-control-expose-headers': 'mcp-session-id, mcp-protocol-version, www-authenticate, x-request-id',
  };
}

const CORS_PREFLIGHT_HEADERS: Record<string, string> = {
  'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
  'access-control-allow-headers':
    'authorization, content-type, accept, mcp-session-id, mcp-protocol-version, mcp-method, mcp-name, last-event-id, traceparent, tracestate, baggage, x-request-id',
  'access-control-max-age': '600',
};

function sendDirect(res: ServerResponse, response: ProxyResponse, requestId: string): Promise<void> {
  return writeResponse(response, res, { headers: { 'x-request-id': requestId } });
}

/** Discard the rest of a refused upload (so the client can read the answer), up to a cap, then close. */
function discardRest(req: IncomingMessage, capBytes: number): void {
  if (req.complete) return;
  let seen = 0;
  req.on('data', (c: Buffer) => {
    seen += c.length;
    if (seen > capBytes) req.socket.destroy();
  });
  req.on('error', () => {});
  req.resume();
  const timer = setTimeout(() => req.socket.destroy(), 5_000);
  timer.unref();
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
}

export function createProxyHandler(options: ProxyHandlerOptions): ProxyHandler {
  const cfg = validate(options);
  const log: ExchangeLogger = options.logger ?? silentLogger;
  const upstreamUrl = new URL(options.upstreamUrl);
  const serverName = options.serverName ?? upstreamUrl.hostname;
  if (typeof serverName !== 'string' || serverName === '')
    throw new TypeError('"serverName" must be a non-empty string');
  const policy = createOriginPolicy(
    options.allowedOrigins,
    options.allowedHosts,
    options.host ?? '127.0.0.1',
  );
  const routes = collectRoutes(cfg.middlewares);
  const forwarder: Forwarder = createForwarder({
    upstreamUrl,
    transport: cfg.transport,
    localPath: cfg.path,
    via: cfg.via,
    upstream: options.upstream,
  });
  const chain: Terminal = composeChain(cfg.middlewares, (ex) => forwarder.forward(ex));
  const localDir = baseDir(cfg.path);
  const viaToken = `1.1 ${cfg.via}`.toLowerCase();

  const inflight = new Set<InFlight>();
  let closing = false;
  /** Fired at close(): GET streams end now. */
  const endStreams = new AbortController();
  /** Fired at the close deadline: every streaming body ends. */
  const endAll = new AbortController();

  function readiness(): ReadinessReport {
    const checks: Record<string, ReadinessStatus> = {};
    let ready = !closing;
    if (closing) checks.server = { ready: false, detail: 'shutting down' };
    for (const m of cfg.middlewares) {
      if (typeof m.readiness !== 'function') continue;
      let status: ReadinessStatus;
      try {
        status = m.readiness();
      } catch {
        status = { ready: false, detail: 'readiness check failed' };
      }
      checks[m.name] = status;
      if (!status.ready) ready = false;
    }
    return { ready, checks };
  }

  function routeKind(method: string, path: string): RouteKind | 'method' | undefined {
    if (cfg.transport === 'streamable-http') {
      if (path !== cfg.path) return undefined;
      return method === 'POST' || method === 'GET' || method === 'DELETE' ? 'streamable' : 'method';
    }
    if (path === cfg.path) return method === 'GET' ? 'sse-stream' : 'method';
    if (path.startsWith(localDir) && path.length > localDir.length)
      return method === 'POST' ? 'sse-message' : 'method';
    return undefined;
  }

  async function serve(req: IncomingMessage, res: ServerResponse, requestId: string, abort: AbortController) {
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = q < 0 ? '' : rawUrl.slice(q + 1);

    const reject = (err: ProxyHttpError, id: JsonRpcId = null) =>
      sendDirect(res, errorToResponse(err, undefined, id), requestId);

    if (closing) {
      res.setHeader('connection', 'close');
      return reject(
        httpError(
          503,
          JsonRpcErrorCode.InternalError,
          ProxyCoreErrorCode.ShuttingDown,
          'Proxy is shutting down',
        ),
      );
    }
    // Built-in operational endpoints and middleware routes: outside the chain, no token needed.
    if ((method === 'GET' || method === 'HEAD') && path === '/health') {
      return sendDirect(res, jsonResponse(200, { status: 'ok' }, { 'cache-control': 'no-store' }), requestId);
    }
    if ((method === 'GET' || method === 'HEAD') && path === '/ready') {
      const report = readiness();
      return sendDirect(
        res,
        jsonResponse(
          report.ready ? 200 : 503,
          { status: report.ready ? 'ready' : 'not_ready', checks: report.checks },
          { 'cache-control': 'no-store' },
        ),
        requestId,
      );
    }
    const route = matchRoute(routes, method, path);
    if (route) {
      await route.handle(req, res);
      return;
    }

    // Guards: Host / Origin (DNS rebinding).
    const host = req.headers.host;
    if (!hostAllowed(policy, host)) {
      return reject(
        httpError(403, JsonRpcErrorCode.InvalidRequest, ProxyCoreErrorCode.HostRejected, 'Host not allowed'),
      );
    }
    const origin = req.headers.origin;
    if (!originAllowed(policy, origin, host)) {
      return reject(
        httpError(
          403,
          JsonRpcErrorCode.InvalidRequest,
          ProxyCoreErrorCode.OriginRejected,
          'Origin not allowed',
        ),
      );
    }
    // CORS for browser-based MCP clients whose Origin passed the guard above.
    const cors = origin === undefined ? undefined : corsHeaders(origin);
    if (method === 'OPTIONS' && routeKind('POST', path) !== undefined) {
      return sendDirect(
        res,
        {
          status: 204,
          headers: { ...cors, ...(cors ? CORS_PREFLIGHT_HEADERS : { allow: 'GET, POST, DELETE, OPTIONS' }) },
          body: { type: 'empty' },
        },
        requestId,
      );
    }
    const kind = routeKind(method, path);
    if (kind === undefined) {
      return reject(
        httpError(404, JsonRpcErrorCode.InvalidRequest, ProxyCoreErrorCode.NotFound, 'Not found'),
      );
    }
    if (kind === 'method') {
      const allow =
        cfg.transport === 'streamable-http' ? 'GET, POST, DELETE' : path === cfg.path ? 'GET' : 'POST';
      return reject(
        new ProxyHttpError({
          status: 405,
          rpcCode: JsonRpcErrorCode.InvalidRequest,
          code: ProxyCoreErrorCode.MethodNotAllowed,
          publicMessage: 'Method not allowed',
          headers: { allow },
        }),
      );
    }
    const via = req.headers.via;
    if (via !== undefined && (Array.isArray(via) ? via.join(',') : via).toLowerCase().includes(viaToken)) {
      return reject(
        httpError(508, JsonRpcErrorCode.InternalError, ProxyCoreErrorCode.LoopDetected, 'Loop detected'),
      );
    }

    // Body: limit measured while streaming in; parse once.
    let body: Buffer = Buffer.alloc(0);
    let rpc: JsonRpcMessage | undefined;
    if (method === 'POST') {
      const tooLarge = () => {
        res.setHeader('connection', 'close');
        discardRest(req, cfg.maxBodyBytes);
        return reject(
          httpError(
            413,
            JsonRpcErrorCode.InvalidRequest,
            ProxyCoreErrorCode.BodyTooLarge,
            'Request body too large',
          ),
        );
      };
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > cfg.maxBodyBytes) return tooLarge();
      try {
        body = await readBody(req, cfg.maxBodyBytes);
      } catch (err) {
        if (err instanceof BodyLimitError) return tooLarge();
        res.destroy();
        return;
      }
      try {
        rpc = parseJsonRpc(body);
      } catch (err) {
        if (err instanceof RequestRejected) return reject(err.error, err.id);
        throw err;
      }
    } else {
      // GET/DELETE carry no body; drain anything sent anyway.
      req.resume();
    }

    const exchange = new Exchange({
      request: {
        method,
        path,
        query,
        headers: req.headers,
        body,
        remoteAddress: req.socket.remoteAddress ?? '',
        protocol: (req.socket as TLSSocket).encrypted ? 'https' : 'http',
      },
      requestId,
      serverName,
      route: kind,
      rpc,
      upstreamHeaders: forwardableRequestHeaders(req.headers),
      signal: abort.signal,
      log,
    });
    exchange.upstreamHeaders['x-request-id'] = requestId;

    let response: ProxyResponse;
    try {
      response = await chain(exchange);
    } catch (err) {
      if (!(err instanceof ProxyHttpError) && !ProxyHttpError.isInstance(err)) {
        log.error({ requestId, err: errorSummary(err) }, 'unhandled error in the middleware chain');
      }
      response = errorToResponse(err, exchange);
    }
    await writeResponse(response, res, {
      exchange,
      endSignal: method === 'GET' ? endStreams.signal : endAll.signal,
      headers: cors ? { 'x-request-id': requestId, ...cors } : { 'x-request-id': requestId },
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const abort = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    let resolveDone!: () => void;
    const entry: InFlight = { abort, done: new Promise<void>((r) => (resolveDone = r)) };
    inflight.add(entry);
    try {
      await serve(req, res, requestId, abort);
    } catch (err) {
      log.error({ requestId, err: errorSummary(err) }, 'request failed');
      if (!res.headersSent) await sendDirect(res, errorToResponse(err), requestId);
      else res.destroy();
    } finally {
      inflight.delete(entry);
      resolveDone();
    }
  }

  let closePromise: Promise<void> | undefined;
  async function close(closeOptions?: CloseOptions): Promise<void> {
    closePromise ??= (async () => {
      const graceMs = closeOptions?.graceMs ?? cfg.closeGraceMs;
      if (!Number.isSafeInteger(graceMs) || graceMs < 0)
        throw new TypeError('"graceMs" must be a non-negative integer (ms)');
      closing = true;
      endStreams.abort();
      try {
        const all = Promise.all([...inflight].map((e) => e.done));
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<void>((r) => {
          timer = setTimeout(r, graceMs);
        });
        await Promise.race([all, deadline]);
        clearTimeout(timer);
        if (inflight.size > 0) {
          endAll.abort();
          // Give the clean SSE endings a moment, then abort whatever is still waiting upstream.
          await new Promise((r) => setImmediate(r));
          for (const e of inflight) e.abort.abort();
          await Promise.race([
            Promise.all([...inflight].map((e) => e.done)),
            new Promise((r) => setTimeout(r, 1_000).unref()),
          ]);
        }
      } finally {
        await forwarder.destroy();
        for (const m of [...cfg.middlewares].reverse()) {
          if (typeof m.close !== 'function') continue;
          try {
            await m.close();
          } catch (err) {
            log.warn({ middleware: m.name, err: errorSummary(err) }, 'middleware close failed');
          }
        }
      }
    })();
    return closePromise;
  }

  return {
    handle,
    readiness,
    close,
    get inFlight() {
      return inflight.size;
    },
    options: { path: cfg.path, transport: cfg.transport, via: cfg.via },
  };
}

function errorSummary(err: unknown): Record<string, unknown> {
  if (err instanceof Error) return { name: err.name, code: (err as { code?: unknown }).code };
  return { type: typeof err };
}
