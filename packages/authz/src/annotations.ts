/**
 * Tool annotations as the upstream itself declares them in `tools/list`, cached per server. The
 * client never supplies annotations: a `tools/call` carries only a name, and anything else it sends
 * is ignored. The cache is fed by every `tools/list` response passing through authz, and when a call
 * names a tool the cache does not know, authz fetches `tools/list` itself through the inner chain
 * (following `nextCursor`), at most once per `refreshMinIntervalMs` per server, single-flight.
 */
import {
  type Exchange,
  type JsonRpcMessage,
  mapResponseMessages,
  type Next,
  type ProxyResponse,
} from '@bastion-mcp/proxy-core';
import { pickAnnotations, type ToolAnnotations } from './entity-model.js';

interface CachedTool {
  readonly annotations: ToolAnnotations;
  readonly at: number;
}

interface ServerCache {
  readonly tools: Map<string, CachedTool>;
  /** When the last complete fetch finished (performance.now()), or -Infinity. */
  lastFetchAt: number;
  inflight: Promise<void> | undefined;
}

export interface AnnotationCacheOptions {
  /** How long a tool's annotations are trusted before they are fetched again. */
  readonly ttlMs: number;
  /** Minimum time between two side fetches of `tools/list` for one server. */
  readonly refreshMinIntervalMs: number;
  /** Most pages fetched in one side fetch. */
  readonly maxPages: number;
  /** Most tools remembered per server. */
  readonly maxTools: number;
  readonly now?: (() => number) | undefined;
}

/** What a lookup found: annotations, `unlisted` when a fresh complete listing lacks the tool, or `unavailable`. */
export type AnnotationLookup =
  | { readonly status: 'found'; readonly annotations: ToolAnnotations }
  | { readonly status: 'unlisted' }
  | { readonly status: 'unavailable'; readonly error: unknown };

export class UpstreamListError extends Error {}

let sideRequestCounter = 0;

/** Reads the one JSON-RPC response with `id` from a JSON or SSE body. */
async function responseWithId(res: ProxyResponse, id: string): Promise<JsonRpcMessage | undefined> {
  let found: JsonRpcMessage | undefined;
  const mapped = await mapResponseMessages(res, (m) => {
    if (!('method' in m) && 'id' in m && m.id === id) found = m;
    return m;
  });
  if (mapped.body.type === 'sse') {
    for await (const _ of mapped.body.events) {
      if (found) break;
    }
  } else if (mapped.body.type === 'stream') {
    mapped.body.stream.destroy();
  }
  return found;
}

/** Copy of the 2026-07-28 `_meta` keys a stand-alone request needs (version, capabilities, client info). */
function modernMeta(exchange: Exchange): Record<string, unknown> | undefined {
  const rpc = exchange.rpc;
  const meta =
    rpc && 'params' in rpc ? (rpc.params?._meta as Record<string, unknown> | undefined) : undefined;
  if (!meta || typeof meta !== 'object') return undefined;
  const out: Record<string, unknown> = {};
  for (const key of [
    'io.modelcontextprotocol/protocolVersion',
    'io.modelcontextprotocol/clientCapabilities',
    'io.modelcontextprotocol/clientInfo',
  ]) {
    if (key in meta) out[key] = meta[key];
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

export class AnnotationCache {
  readonly #servers = new Map<string, ServerCache>();
  readonly #options: AnnotationCacheOptions;
  readonly #now: () => number;

  constructor(options: AnnotationCacheOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
  }

  #server(name: string): ServerCache {
    let s = this.#servers.get(name);
    if (!s) {
      s = { tools: new Map(), lastFetchAt: Number.NEGATIVE_INFINITY, inflight: undefined };
      this.#servers.set(name, s);
    }
    return s;
  }

  /** Remember the annotations of tools seen in an upstream `tools/list` result. */
  observe(serverName: string, tools: readonly unknown[]): void {
    const s = this.#server(serverName);
    const at = this.#now();
    for (const t of tools) {
      if (typeof t !== 'object' || t === null) continue;
      const name = (t as { name?: unknown }).name;
      if (typeof name !== 'string') continue;
      s.tools.delete(name);
      s.tools.set(name, { annotations: pickAnnotations((t as { annotations?: unknown }).annotations), at });
      if (s.tools.size > this.#options.maxTools) {
        const oldest = s.tools.keys().next().value;
        if (oldest !== undefined) s.tools.delete(oldest);
      }
    }
  }

  /** Forget everything known about a server (e.g. on `notifications/tools/list_changed`). */
  invalidate(serverName: string): void {
    const s = this.#servers.get(serverName);
    if (s) {
      s.tools.clear();
      s.lastFetchAt = Number.NEGATIVE_INFINITY;
    }
  }

  #fresh(s: ServerCache, name: string): CachedTool | undefined {
    const t = s.tools.get(name);
    return t && this.#now() - t.at <= this.#options.ttlMs ? t : undefined;
  }

  /** Annotations of `toolName`, fetching the upstream's `tools/list` through `next` when needed. */
  async lookup(exchange: Exchange, next: Next, toolName: string): Promise<AnnotationLookup> {
    const s = this.#server(exchange.serverName);
    let t = this.#fresh(s, toolName);
    if (t) return { status: 'found', annotations: t.annotations };
    const sinceFetch = this.#now() - s.lastFetchAt;
    if (sinceFetch >= this.#options.refreshMinIntervalMs || s.inflight) {
      s.inflight ??= this.#fetchAll(exchange, next, s).finally(() => {
        s.inflight = undefined;
      });
      try {
        await s.inflight;
      } catch (error) {
        return { status: 'unavailable', error };
      }
      t = this.#fresh(s, toolName);
      if (t) return { status: 'found', annotations: t.annotations };
    }
    return { status: 'unlisted' };
  }

  async #fetchAll(exchange: Exchange, next: Next, s: ServerCache): Promise<void> {
    const meta = modernMeta(exchange);
    let cursor: string | undefined;
    for (let page = 0; page < this.#options.maxPages; page++) {
      sideRequestCounter += 1;
      const id = `bastion-authz-tools-${sideRequestCounter}`;
      const params: Record<string, unknown> = {};
      if (cursor !== undefined) params.cursor = cursor;
      if (meta) params._meta = meta;
      const side = exchange.derive({ jsonrpc: '2.0', id, method: 'tools/list', params });
      side.notes.side = 'authz-annotations';
      const h = side.upstreamHeaders;
      delete h['content-length'];
      delete h['mcp-name'];
      for (const k of Object.keys(h)) if (k.startsWith('mcp-param-')) delete h[k];
      if ('mcp-method' in h || meta) h['mcp-method'] = 'tools/list';
      const res = await next(side);
      if (res.status < 200 || res.status >= 300) {
        if (res.body.type === 'stream') res.body.stream.destroy();
        throw new UpstreamListError(`upstream answered tools/list with HTTP ${res.status}`);
      }
      const msg = await responseWithId(res, id);
      if (!msg || !('result' in msg)) {
        throw new UpstreamListError('upstream tools/list gave no result');
      }
      const tools = msg.result.tools;
      if (!Array.isArray(tools)) throw new UpstreamListError('upstream tools/list result has no tools array');
      this.observe(exchange.serverName, tools);
      const nextCursor = msg.result.nextCursor;
      if (typeof nextCursor !== 'string' || nextCursor === '') break;
      cursor = nextCursor;
    }
    s.lastFetchAt = this.#now();
  }
}
