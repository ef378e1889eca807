/**
 * Run middlewares the way proxy-core's server does (compose them around a forwarding terminal) for
 * one inbound request, so middleware-level tests exercise a real upstream without the HTTP server.
 * The terminal forwards `exchange.upstreamHeaders` and the body to the testkit MCP upstream.
 */
import {
  composeChain,
  Exchange,
  type Identity,
  type Middleware,
  type ProxyResponse,
} from '@bastion-mcp/proxy-core';
import { decodeJwt } from 'jose';

let seq = 0;

export interface RunOptions {
  /** Inbound bearer token (as auth would leave it on the exchange). */
  token?: string | undefined;
  /** Identity to set; by default derived from the token's claims (decoded, the test minted it). */
  identity?: Identity | null | undefined;
  /** JSON-RPC body. Default: a `ping`. */
  rpc?: Record<string, unknown>;
}

export function identityOf(token: string): Identity {
  let claims: ReturnType<typeof decodeJwt> = {};
  try {
    claims = decodeJwt(token);
  } catch {
    // an opaque test token: no claims
  }
  return {
    subject: String(claims.sub),
    groups: [],
    roles: [],
    scopes: typeof claims.scope === 'string' ? claims.scope.split(' ') : [],
    claims,
    tokenKind: 'jwt',
    expiresAt: claims.exp,
  };
}

export function makeExchange(options: RunOptions = {}): Exchange {
  const rpc = (options.rpc ?? { jsonrpc: '2.0', id: ++seq, method: 'ping' }) as never;
  const body = Buffer.from(JSON.stringify(rpc));
  const exchange = new Exchange({
    request: {
      method: 'POST',
      path: '/mcp',
      query: '',
      headers: {
        'content-type': 'application/json',
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      },
      body,
      remoteAddress: '127.0.0.1',
      protocol: 'http',
    },
    requestId: `req-${seq}`,
    serverName: 'test',
    route: 'streamable',
    rpc,
    // What proxy-core pre-fills: forwardable headers, never the client's authorization.
    upstreamHeaders: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    signal: new AbortController().signal,
  });
  if (options.token) exchange.inboundToken = options.token;
  if (options.identity !== null) {
    exchange.identity = options.identity ?? (options.token ? identityOf(options.token) : undefined);
  }
  return exchange;
}

/** A terminal that forwards to `upstreamUrl` with the exchange's upstream headers. */
export function forwardTo(upstreamUrl: string) {
  return async (exchange: Exchange): Promise<ProxyResponse> => {
    const res = await fetch(upstreamUrl, {
      method: exchange.request.method,
      headers: exchange.upstreamHeaders,
      body: exchange.request.body,
    });
    const text = await res.text();
    return { status: res.status, headers: {}, body: { type: 'json', value: text } };
  };
}

/** Run one request through `middlewares` to the upstream. */
export function run(middlewares: Middleware[], upstreamUrl: string, options: RunOptions = {}) {
  const exchange = makeExchange(options);
  const chain = composeChain(middlewares, forwardTo(upstreamUrl));
  return { exchange, response: chain(exchange) };
}

/** application/x-www-form-urlencoded encoding of one value (RFC 6749 §2.3.1 client credentials). */
export function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/(?:[-_.!~*'()]|%20)/g, (c) =>
    c === '%20' ? '+' : `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
