/**
 * The one Middleware interface every Bastion package implements. Onion-style: a middleware gets the
 * exchange and `next`, and may answer early, rewrite the request before `next`, or transform the
 * response after it. The chain order is fixed by the runner (see PRODUCT.md §1.2).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Exchange } from './exchange.js';
import type { ProxyResponse } from './response.js';

/**
 * Calls the rest of the chain. Pass a derived exchange (`exchange.derive(...)`) to send a side request
 * through the inner layers; by default the current exchange continues.
 */
export type Next = (exchange?: Exchange) => Promise<ProxyResponse>;

/** An extra HTTP route served outside the proxied chain (never needs a token), e.g. RFC 9728 metadata. */
export interface Route {
  readonly method: 'GET' | 'POST' | 'OPTIONS' | 'HEAD';
  /** Exact path, or a prefix when it ends with `*` (e.g. `/.well-known/oauth-protected-resource*`). */
  readonly path: string;
  handle(req: IncomingMessage, res: ServerResponse): void | Promise<void>;
}

export interface ReadinessStatus {
  readonly ready: boolean;
  /** Short human-readable explanation, shown on `/ready`. Never contains secrets. */
  readonly detail?: string | undefined;
}

export interface Middleware {
  /** Stable name (`audit`, `auth`, ...), used in logs, notes and the chain-order invariant. */
  readonly name: string;
  handle(exchange: Exchange, next: Next): Promise<ProxyResponse>;
  readonly routes?: readonly Route[] | undefined;
  /** Contribution to `/ready` (e.g. JWKS fetched at least once). */
  readiness?(): ReadinessStatus;
  /** Called on server shutdown. */
  close?(): Promise<void>;
}

/** Terminal handler of the chain (the forwarder). */
export type Terminal = (exchange: Exchange) => Promise<ProxyResponse>;

/**
 * Compose middlewares (outermost first) around a terminal handler. Each middleware's `next` may be
 * given a different exchange, which then flows through the remaining layers.
 */
export function composeChain(middlewares: readonly Middleware[], terminal: Terminal): Terminal {
  for (const m of middlewares) {
    if (!m || typeof m.handle !== 'function' || typeof m.name !== 'string') {
      throw new TypeError('"middlewares" must contain objects with a string "name" and a "handle" function');
    }
  }
  const dispatch = (index: number, exchange: Exchange): Promise<ProxyResponse> => {
    const m = middlewares[index];
    if (!m) return terminal(exchange);
    return m.handle(exchange, (ex) => dispatch(index + 1, ex ?? exchange));
  };
  return (exchange) => dispatch(0, exchange);
}
