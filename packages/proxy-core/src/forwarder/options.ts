import type { LookupFunction } from 'node:net';
import type { Dispatcher } from 'undici';
import type { Exchange } from '../exchange.js';

/** How the forwarder talks to the remote MCP server. Every duration is in milliseconds. */
export interface UpstreamOptions {
  /** TCP/TLS connect timeout. Default 10 000. A failed or timed-out connect answers 502. */
  connectTimeoutMs?: number | undefined;
  /** Time until the upstream's response headers arrive. Default 120 000. Exceeded: 504. `0` disables. */
  headersTimeoutMs?: number | undefined;
  /**
   * Idle time between two body chunks of a non-SSE response. Default 300 000. Exceeded: the response is
   * cut (headers were already relayed). `0` disables.
   */
  bodyTimeoutMs?: number | undefined;
  /** Idle time between two chunks of an SSE response. Default 0 (disabled: long-lived streams stay open). */
  sseIdleTimeoutMs?: number | undefined;
  /** How long an idle keep-alive connection to the upstream is kept. Default 4 000. */
  keepAliveTimeoutMs?: number | undefined;
  /** Maximum connections per upstream origin. Default: unlimited. */
  connections?: number | undefined;
  /** Extra trusted CA certificate(s), PEM (replaces Node's bundle for the upstream, like `tls.connect`). */
  ca?: string | Buffer | Array<string | Buffer> | undefined;
  /**
   * DNS lookup used when connecting (`net.LookupFunction`). The runner passes one that refuses private,
   * link-local and metadata addresses, so SSRF checks apply to the resolved address, also on redirects.
   */
  lookup?: LookupFunction | undefined;
  /**
   * Redirects are not followed by default (an upstream 3xx answers 502). When set, a 307/308 whose
   * `Location` this hook accepts is followed with the same method and body (at most `maxRedirects`).
   */
  checkRedirect?: ((location: URL, exchange: Exchange) => boolean | Promise<boolean>) | undefined;
  /** Maximum redirects followed when `checkRedirect` is set. Default 5. */
  maxRedirects?: number | undefined;
  /**
   * A dispatcher to use instead of the forwarder's own pools (e.g. undici `EnvHttpProxyAgent` for
   * `HTTPS_PROXY`/`NO_PROXY`, or a test `MockAgent`). Not closed by the forwarder.
   */
  dispatcher?: Dispatcher | undefined;
}

export interface ResolvedUpstreamOptions {
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  sseIdleTimeoutMs: number;
  keepAliveTimeoutMs: number;
  connections: number | undefined;
  ca: string | Buffer | Array<string | Buffer> | undefined;
  lookup: LookupFunction | undefined;
  checkRedirect: UpstreamOptions['checkRedirect'];
  maxRedirects: number;
  dispatcher: Dispatcher | undefined;
}

function duration(name: string, value: number | undefined, fallback: number, allowZero = true): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0) || !Number.isInteger(value)) {
    throw new TypeError(
      `"upstream.${name}" must be a ${allowZero ? 'non-negative' : 'positive'} integer (ms)`,
    );
  }
  return value;
}

export function resolveUpstreamOptions(o: UpstreamOptions | undefined = {}): ResolvedUpstreamOptions {
  if (typeof o !== 'object' || o === null) throw new TypeError('"upstream" must be an object');
  if (o.lookup !== undefined && typeof o.lookup !== 'function') {
    throw new TypeError('"upstream.lookup" must be a function');
  }
  if (o.checkRedirect !== undefined && typeof o.checkRedirect !== 'function') {
    throw new TypeError('"upstream.checkRedirect" must be a function');
  }
  if (o.connections !== undefined && (!Number.isInteger(o.connections) || o.connections <= 0)) {
    throw new TypeError('"upstream.connections" must be a positive integer');
  }
  if (o.dispatcher !== undefined && typeof (o.dispatcher as { request?: unknown }).request !== 'function') {
    throw new TypeError('"upstream.dispatcher" must be an undici Dispatcher');
  }
  return {
    connectTimeoutMs: duration('connectTimeoutMs', o.connectTimeoutMs, 10_000, false),
    headersTimeoutMs: duration('headersTimeoutMs', o.headersTimeoutMs, 120_000),
    bodyTimeoutMs: duration('bodyTimeoutMs', o.bodyTimeoutMs, 300_000),
    sseIdleTimeoutMs: duration('sseIdleTimeoutMs', o.sseIdleTimeoutMs, 0),
    keepAliveTimeoutMs: duration('keepAliveTimeoutMs', o.keepAliveTimeoutMs, 4_000, false),
    connections: o.connections,
    ca: o.ca,
    lookup: o.lookup,
    checkRedirect: o.checkRedirect,
    maxRedirects: duration('maxRedirects', o.maxRedirects, 5),
    dispatcher: o.dispatcher,
  };
}
