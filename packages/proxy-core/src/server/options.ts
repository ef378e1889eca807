import type { ExchangeLogger } from '../exchange.js';
import type { UpstreamOptions } from '../forwarder/options.js';
import type { Middleware } from '../middleware.js';

export interface ProxyLimits {
  /** Largest inbound request body, bytes, measured while it streams in. Default 8 MiB. Over: 413. */
  maxBodyBytes?: number | undefined;
}

/** Options of `createProxyHandler` and `startProxyServer`. */
export interface ProxyHandlerOptions {
  /** The remote MCP endpoint (`http(s)://…/mcp`, or the legacy `…/sse`). Its path and query are kept. */
  upstreamUrl: string | URL;
  /** Logical server name (`exchange.serverName`). Default: the host name of `upstreamUrl`. */
  serverName?: string | undefined;
  /** Middlewares, outermost first (PRODUCT.md §1.2 order is the runner's job). Default none. */
  middlewares?: readonly Middleware[] | undefined;
  /** Upstream transport: `streamable-http` (default) or legacy `sse`. */
  transport?: 'streamable-http' | 'sse' | undefined;
  /** Local endpoint path. Default `/mcp` (streamable-http) or `/sse` (sse). */
  path?: string | undefined;
  limits?: ProxyLimits | undefined;
  /** Exact allowed `Origin` values (`https://app.example`), or `['*']`. Default: see README (DNS rebinding). */
  allowedOrigins?: readonly string[] | undefined;
  /** Allowed `Host` values (`name` or `name:port`), or `['*']`. Default: loopback names when listening on loopback, else any. */
  allowedHosts?: readonly string[] | undefined;
  upstream?: UpstreamOptions | undefined;
  /** Structured logger (pino-compatible). Default: silent. */
  logger?: ExchangeLogger | undefined;
  /** Pseudonym appended to `Via` and used for loop detection. Default `bastion-<random>` per instance. */
  via?: string | undefined;
  /** The host the server listens on; decides the loopback defaults of the Origin/Host checks. Default `127.0.0.1`. */
  host?: string | undefined;
  /** Default grace period of `close()`, ms. Default 10 000. */
  closeGraceMs?: number | undefined;
}

/**
 * Timeouts of the inbound node:http server (slowloris protection). They bound how long a client may
 * take to SEND its request; answers (SSE streams included) are not limited by them.
 */
export interface ProxyServerTimeouts {
  /** Time allowed to receive a request's headers, ms (node `headersTimeout`). Default 10 000. */
  headersTimeoutMs?: number | undefined;
  /** Time allowed to receive a whole request (headers and body), ms (node `requestTimeout`). `0` disables. Default 30 000. */
  requestTimeoutMs?: number | undefined;
  /** Idle time of a kept-alive client connection between requests, ms (node `keepAliveTimeout`). Default 5 000. */
  keepAliveTimeoutMs?: number | undefined;
  /** How often the two request timeouts are checked, ms (node `connectionsCheckingInterval`). Default 1 000. */
  connectionsCheckingIntervalMs?: number | undefined;
}

export interface ProxyServerOptions extends ProxyHandlerOptions {
  /** Listen port. Default 0 (a free port). */
  port?: number | undefined;
  /** Inbound server timeouts. */
  server?: ProxyServerTimeouts | undefined;
}

export const DEFAULT_SERVER_TIMEOUTS = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  connectionsCheckingIntervalMs: 1_000,
} as const;

export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;
