/**
 * The terminal handler of the chain: sends the exchange to the remote MCP server over an undici pool
 * (one per upstream origin, keep-alive) and returns the upstream response as a `stream` body. Bodies
 * are never buffered here; middlewares that need the messages use `mapResponseMessages`.
 */
import type { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { channels, type UpstreamFinishMessage, type UpstreamStartMessage } from '../diagnostics.js';
import { httpError } from '../edge/error-to-response.js';
import { ProxyCoreErrorCode, type ProxyHttpError } from '../errors.js';
import type { Exchange } from '../exchange.js';
import { JsonRpcErrorCode } from '../jsonrpc.js';
import { isSseContentType, type ProxyResponse } from '../response.js';
import { parseSse } from '../sse/parser.js';
import { appendHeader, FORWARDER_OWNED, relayableResponseHeaders } from './headers.js';
import { watchIdle } from './idle-timeout.js';
import { type ResolvedUpstreamOptions, resolveUpstreamOptions, type UpstreamOptions } from './options.js';
import { jsonErrorResponse, needsJsonErrorBody } from './upstream-error.js';
import { localEndpointFor, mapEndpointUrl, upstreamMessageUrl } from './url.js';
import type { SseEvent } from '../sse/event.js';

export interface ForwarderOptions {
  /** The remote MCP endpoint (streamable `/mcp`, or the legacy `/sse` URL). Path and query are kept. */
  upstreamUrl: string | URL;
  /** `streamable-http` (default) or the legacy `sse` transport. */
  transport?: 'streamable-http' | 'sse' | undefined;
  /** The local endpoint path the client uses (`/mcp` or `/sse`), for legacy endpoint rewriting. */
  localPath?: string | undefined;
  /** Pseudonym appended to `Via` (`1.1 <via>`). */
  via?: string | undefined;
  upstream?: UpstreamOptions | undefined;
}

export interface Forwarder {
  /** The chain's terminal handler. */
  forward(exchange: Exchange): Promise<ProxyResponse>;
  /** The upstream URL an exchange is sent to, or `undefined` when its path maps to nothing. */
  targetUrl(exchange: Exchange): URL | undefined;
  /** Close the pools (in-flight requests finish first). */
  close(): Promise<void>;
  /** Destroy the pools immediately, aborting in-flight requests. */
  destroy(): Promise<void>;
}

function redactUrl(url: URL): string {
  const u = new URL(url.href);
  u.username = '';
  u.password = '';
  u.search = '';
  return u.href;
}

/** undici/network error → ProxyHttpError (502/504), never exposing the error text to the client. */
export function mapUpstreamError(err: unknown, exchange: Exchange): ProxyHttpError {
  const code = (err as { code?: unknown })?.code;
  if (exchange.signal.aborted) {
    return httpError(
      502,
      JsonRpcErrorCode.InternalError,
      ProxyCoreErrorCode.UpstreamUnreachable,
      'Request aborted',
      {
        cause: err,
        message: 'request aborted before the upstream answered',
      },
    );
  }
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return httpError(
      504,
      JsonRpcErrorCode.InternalError,
      ProxyCoreErrorCode.UpstreamTimeout,
      'Upstream MCP server timed out',
      {
        cause: err,
        message: `upstream timed out (${String(code)})`,
      },
    );
  }
  if (
    (typeof code === 'string' && code.startsWith('HPE_')) ||
    (err as { name?: unknown })?.name === 'HTTPParserError' ||
    code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' ||
    code === 'UND_ERR_HEADERS_OVERFLOW' ||
    code === 'UND_ERR_INFO'
  ) {
    return httpError(
      502,
      JsonRpcErrorCode.InternalError,
      ProxyCoreErrorCode.UpstreamBadResponse,
      'Invalid response from upstream MCP server',
      { cause: err, message: `invalid upstream response (${String(code)})` },
    );
  }
  return httpError(
    502,
    JsonRpcErrorCode.InternalError,
    ProxyCoreErrorCode.UpstreamUnreachable,
    'Upstream MCP server unreachable',
    {
      cause: err,
      message: `upstream unreachable (${typeof code === 'string' ? code : 'unknown'})`,
    },
  );
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export function createForwarder(options: ForwarderOptions): Forwarder {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
  let remote: URL;
  try {
    remote = new URL(options.upstreamUrl);
  } catch {
    throw new TypeError('"upstreamUrl" must be an absolute http(s) URL');
  }
  if (remote.protocol !== 'http:' && remote.protocol !== 'https:') {
    throw new TypeError('"upstreamUrl" must be an absolute http(s) URL');
  }
  const transport = options.transport ?? 'streamable-http';
  if (transport !== 'streamable-http' && transport !== 'sse') {
    throw new TypeError('"transport" must be "streamable-http" or "sse"');
  }
  const localPath = options.localPath ?? (transport === 'sse' ? '/sse' : '/mcp');
  const via = options.via ?? 'bastion';
  const cfg: ResolvedUpstreamOptions = resolveUpstreamOptions(options.upstream);
  const pools = new Map<string, Pool>();
  let closed = false;

  function dispatcherFor(origin: string): Dispatcher {
    if (cfg.dispatcher) return cfg.dispatcher;
    let pool = pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: cfg.connections ?? null,
        keepAliveTimeout: cfg.keepAliveTimeoutMs,
        headersTimeout: cfg.headersTimeoutMs,
        bodyTimeout: 0,
        connect: {
          timeout: cfg.connectTimeoutMs,
          ...(cfg.ca === undefined ? {} : { ca: cfg.ca }),
          ...(cfg.lookup === undefined ? {} : { lookup: cfg.lookup }),
        },
      });
      pools.set(origin, pool);
    }
    return pool;
  }

  /** The target of the common case (endpoint route, no inbound query), computed once; never mutated. */
  const plainTarget = mapEndpointUrl(remote, '');
  const plainTargetRedacted = redactUrl(plainTarget);
  /** The URL as published on the diagnostics channels (no credentials, no query). */
  const publishedUrl = (url: URL): string => (url === plainTarget ? plainTargetRedacted : redactUrl(url));

  function targetUrl(exchange: Exchange): URL | undefined {
    if (exchange.route === 'sse-message') {
      return upstreamMessageUrl(remote, localPath, exchange.request.path, exchange.request.query);
    }
    return mapEndpointUrl(remote, exchange.request.query);
  }

  function outboundHeaders(exchange: Exchange, url: URL, body: Buffer | undefined): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(exchange.upstreamHeaders)) {
      const n = name.toLowerCase();
      if (FORWARDER_OWNED.has(n) || n.startsWith('x-forwarded-') || n === 'via' || n === 'forwarded')
        continue;
      out[n] = value;
    }
    const inbound = exchange.request.headers;
    out.host = url.host;
    out['x-forwarded-for'] = appendHeader(inbound['x-forwarded-for'], exchange.request.remoteAddress);
    out['x-forwarded-proto'] = appendHeader(inbound['x-forwarded-proto'], exchange.request.protocol);
    if (inbound.host) out['x-forwarded-host'] = appendHeader(inbound['x-forwarded-host'], inbound.host);
    out.via = appendHeader(inbound.via, `1.1 ${via}`);
    if (body !== undefined && out['content-type'] === undefined) out['content-type'] = 'application/json';
    return out;
  }

  function requestBody(exchange: Exchange): Buffer | undefined {
    if (exchange.request.method !== 'POST') return undefined;
    if (exchange.rpcModified && exchange.rpc !== undefined) return Buffer.from(JSON.stringify(exchange.rpc));
    return exchange.request.body;
  }

  async function send(
    exchange: Exchange,
    url: URL,
    body: Buffer | undefined,
  ): Promise<Dispatcher.ResponseData> {
    return dispatcherFor(url.origin).request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: exchange.request.method as Dispatcher.HttpMethod,
      headers: outboundHeaders(exchange, url, body),
      body: body ?? null,
      signal: exchange.signal,
      headersTimeout: cfg.headersTimeoutMs,
      bodyTimeout: 0,
    });
  }

  function wrapBody(stream: Readable, isSse: boolean): Readable {
    const idle = isSse ? cfg.sseIdleTimeoutMs : cfg.bodyTimeoutMs;
    if (idle === 0) return stream;
    return watchIdle(stream, idle, () =>
      httpError(
        504,
        JsonRpcErrorCode.InternalError,
        ProxyCoreErrorCode.UpstreamTimeout,
        'Upstream MCP server timed out',
        {
          message: 'upstream body idle timeout',
        },
      ),
    );
  }

  /** Legacy SSE: rewrite the `endpoint` event so the client posts back through the proxy. */
  async function* rewriteEndpoint(
    events: AsyncIterable<SseEvent>,
    exchange: Exchange,
  ): AsyncGenerator<SseEvent> {
    for await (const ev of events) {
      if (ev.event === 'endpoint') {
        const local = localEndpointFor(ev.data.trim(), remote, localPath);
        if (local === undefined) {
          exchange.log.warn(
            { requestId: exchange.requestId },
            'upstream SSE endpoint is outside the remote URL; stream closed',
          );
          throw httpError(
            502,
            JsonRpcErrorCode.InternalError,
            ProxyCoreErrorCode.UpstreamBadResponse,
            'Invalid response from upstream MCP server',
          );
        }
        yield { ...ev, data: local };
      } else {
        yield ev;
      }
    }
  }

  async function forward(exchange: Exchange): Promise<ProxyResponse> {
    if (closed) {
      throw httpError(
        503,
        JsonRpcErrorCode.InternalError,
        ProxyCoreErrorCode.ShuttingDown,
        'Proxy is shutting down',
      );
    }
    const target =
      exchange.route !== 'sse-message' && exchange.request.query === '' ? plainTarget : targetUrl(exchange);
    if (target === undefined) {
      throw httpError(404, JsonRpcErrorCode.InvalidRequest, ProxyCoreErrorCode.NotFound, 'Not found');
    }
    let url: URL = target;
    const body = requestBody(exchange);
    const started = performance.now();
    const method = exchange.request.method;
    if (channels.upstreamStart.hasSubscribers) {
      channels.upstreamStart.publish({
        exchange,
        url: publishedUrl(url),
        method,
      } satisfies UpstreamStartMessage);
    }
    const finish = (status: number | undefined, errorCode: string | undefined) => {
      if (channels.upstreamFinish.hasSubscribers) {
        channels.upstreamFinish.publish({
          exchange,
          url: publishedUrl(url),
          method,
          status,
          errorCode,
          durationMs: performance.now() - started,
        } satisfies UpstreamFinishMessage);
      }
    };
    let res: Dispatcher.ResponseData;
    let redirects = 0;
    try {
      for (;;) {
        res = await send(exchange, url, body);
        const location = res.headers.location;
        if (!REDIRECTS.has(res.statusCode) || location === undefined) break;
        await res.body.dump({ limit: 64 * 1024 }).catch(() => {});
        const next: URL = new URL(Array.isArray(location) ? location[0]! : location, url);
        const allowed =
          cfg.checkRedirect !== undefined &&
          (res.statusCode === 307 || res.statusCode === 308) &&
          redirects < cfg.maxRedirects &&
          (next.protocol === 'https:' || next.protocol === 'http:') &&
          (await cfg.checkRedirect(next, exchange));
        if (!allowed) {
          throw httpError(
            502,
            JsonRpcErrorCode.InternalError,
            ProxyCoreErrorCode.UpstreamRedirectRefused,
            'Invalid response from upstream MCP server',
            { message: `upstream redirect (${res.statusCode}) not followed` },
          );
        }
        redirects++;
        url = next;
      }
    } catch (err) {
      const mapped = isHttpError(err) ? err : mapUpstreamError(err, exchange);
      finish(undefined, mapped.code);
      throw mapped;
    }
    finish(res.statusCode, undefined);
    const headers = relayableResponseHeaders(res.headers);
    const ct = String(headers['content-type'] ?? '').toLowerCase();
    if (needsJsonErrorBody(res.statusCode, ct, headers)) {
      return jsonErrorResponse(exchange, res.statusCode, headers, res.body, cfg.bodyTimeoutMs);
    }
    const sse = isSseContentType(ct);
    const stream = wrapBody(res.body, sse);
    if (sse && exchange.route === 'sse-stream') {
      delete headers['content-length'];
      return {
        status: res.statusCode,
        headers,
        body: { type: 'sse', events: rewriteEndpoint(parseSse(stream), exchange) },
      };
    }
    return { status: res.statusCode, headers, body: { type: 'stream', stream } };
  }

  return {
    forward,
    targetUrl,
    async close() {
      closed = true;
      const all = [...pools.values()];
      pools.clear();
      await Promise.allSettled(all.map((p) => p.close()));
    },
    async destroy() {
      closed = true;
      const all = [...pools.values()];
      pools.clear();
      await Promise.allSettled(all.map((p) => p.destroy()));
    },
  };
}

function isHttpError(err: unknown): err is ProxyHttpError {
  return (
    typeof (err as ProxyHttpError)?.status === 'number' &&
    typeof (err as ProxyHttpError)?.rpcCode === 'number'
  );
}
