/**
 * The exchange: everything one inbound HTTP request carries through the middleware chain.
 *
 * The JSON-RPC body is parsed once by the request guards and shared by every middleware. The raw
 * inbound bearer token is kept in a private field so that serialising an exchange (audit,
 * logs, spans) can never leak it.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { JsonRpcMessage } from './jsonrpc.js';

/** Who made the request, as established by an authentication middleware. */
export interface Identity {
  /** Stable user id (the configured user-id claim, `sub` by default). */
  readonly subject: string;
  readonly name?: string | undefined;
  readonly email?: string | undefined;
  readonly groups: readonly string[];
  readonly roles: readonly string[];
  /** Granted scopes (from `scope`/`scp` claims or introspection). */
  readonly scopes: readonly string[];
  /** Every claim of the token or introspection response (never the token itself). */
  readonly claims: Readonly<Record<string, unknown>>;
  /** How the identity was established. */
  readonly tokenKind: 'jwt' | 'opaque' | 'anonymous';
  /** Token expiry, epoch seconds, when known. */
  readonly expiresAt?: number | undefined;
}

/** The inbound HTTP request, as received (headers lower-cased by node:http). */
export interface InboundRequest {
  readonly method: string;
  /** Path as received, without the query string (e.g. `/mcp`). */
  readonly path: string;
  /** Query string without the leading `?`, or `''`. */
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
  /** The raw body bytes (empty for GET/DELETE). Bounded by the body-limit guard. */
  readonly body: Buffer;
  readonly remoteAddress: string;
  /** `http` or `https` as seen by this server. */
  readonly protocol: 'http' | 'https';
}

/** Which deployment-level route the request arrived on. */
export type RouteKind = 'streamable' | 'sse-stream' | 'sse-message';

/** Facts middlewares record for the layers outside them (audit, telemetry) to report. */
export interface ExchangeNotes {
  /** The tool name the client used, before any renaming (set by tool-filter). */
  clientToolName?: string | undefined;
  /** Authorization decision and the ids of the policies that produced it (set by authz). */
  authz?: { decision: 'allow' | 'deny'; policyIds: string[]; reason?: string | undefined } | undefined;
  /** Which middleware refused the request, when one did (`auth`, `authz`, `tool-filter`, ...). */
  rejectedBy?: string | undefined;
  /** The credential sent upstream came from: `exchange`, `client-credentials`, `static`, `oauth`. */
  upstreamCredential?: string | undefined;
  /** Free-form extra facts, keyed by middleware name. Never put secrets here. */
  [key: string]: unknown;
}

/** Minimal structured logger the chain uses (pino-compatible). Libraries log only through this. */
export interface ExchangeLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: ExchangeLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** Everything the chain shares for one request. Created by the server; never global. */
export class Exchange {
  readonly request: InboundRequest;
  /** Unique id for this request (echoed as `x-request-id` when the client did not send one). */
  readonly requestId: string;
  /** Logical MCP server name (Cedar `MCP::"<name>"`, metrics label, audit target). */
  readonly serverName: string;
  readonly route: RouteKind;
  /** The JSON-RPC message of a POST, parsed once; `undefined` for GET/DELETE. Middlewares may replace it. */
  rpc: JsonRpcMessage | undefined;
  /** Set by the auth middleware. */
  identity: Identity | undefined;
  /**
   * Headers to send upstream, lower-case names. Pre-filled by the server with the forwardable inbound
   * headers (never `authorization`, cookies or hop-by-hop headers); credential middlewares add theirs.
   */
  readonly upstreamHeaders: Record<string, string>;
  /** Aborted when the client goes away or the server shuts down. */
  readonly signal: AbortSignal;
  readonly log: ExchangeLogger;
  readonly notes: ExchangeNotes = {};
  /** Monotonic start time (performance.now()). */
  readonly startedAt: number;
  /** `true` once `rpc` was rewritten so the forwarder must re-serialise it instead of sending the raw body. */
  rpcModified = false;
  /** A private field: invisible to `Object.keys`, `JSON.stringify`, spreads and `util.inspect`. */
  #inboundToken: string | undefined;

  constructor(init: {
    request: InboundRequest;
    requestId: string;
    serverName: string;
    route: RouteKind;
    rpc: JsonRpcMessage | undefined;
    upstreamHeaders: Record<string, string>;
    signal: AbortSignal;
    log?: ExchangeLogger | undefined;
    startedAt?: number | undefined;
  }) {
    this.request = init.request;
    this.requestId = init.requestId;
    this.serverName = init.serverName;
    this.route = init.route;
    this.rpc = init.rpc;
    this.identity = undefined;
    this.upstreamHeaders = init.upstreamHeaders;
    this.signal = init.signal;
    this.log = init.log ?? silentLogger;
    this.startedAt = init.startedAt ?? performance.now();
  }

  /** The inbound bearer token, kept only in memory for token exchange. Not enumerable, never serialised. */
  get inboundToken(): string | undefined {
    return this.#inboundToken;
  }

  set inboundToken(token: string | undefined) {
    this.#inboundToken = token;
  }

  /** Replace the JSON-RPC message (e.g. a renamed tool); the forwarder re-serialises it. */
  replaceRpc(message: JsonRpcMessage): void {
    this.rpc = message;
    this.rpcModified = true;
  }

  /**
   * A derived exchange for a side request a middleware sends through the rest of the chain (for example
   * authz fetching the upstream's own `tools/list`). It shares identity, token, headers and signal.
   */
  derive(rpc: JsonRpcMessage): Exchange {
    const child = new Exchange({
      request: { ...this.request, method: 'POST' },
      requestId: `${this.requestId}.side`,
      serverName: this.serverName,
      route: this.route,
      rpc,
      upstreamHeaders: { ...this.upstreamHeaders },
      signal: this.signal,
      log: this.log,
    });
    child.rpcModified = true;
    child.identity = this.identity;
    child.inboundToken = this.inboundToken;
    child.notes.side = true;
    return child;
  }

  toJSON(): Record<string, unknown> {
    return { requestId: this.requestId, method: this.request.method, path: this.request.path, rpc: this.rpc };
  }
}
