/**
 * Diagnostics channels: how libraries report what they do without logging on their own (the undici
 * pattern). Telemetry and apps subscribe; publishing costs nothing when nobody listens.
 *
 * Every message is a plain object; none ever contains a token or secret.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { Exchange } from './exchange.js';

/** Upstream (remote MCP server) request lifecycle, published by the forwarder. */
export interface UpstreamStartMessage {
  readonly exchange: Exchange;
  /** Upstream URL without credentials. */
  readonly url: string;
  readonly method: string;
}
export interface UpstreamFinishMessage {
  readonly exchange: Exchange;
  readonly url: string;
  readonly method: string;
  /** Upstream HTTP status when headers arrived. */
  readonly status?: number | undefined;
  /** Error code (`ERR_BASTION_...`) when the request failed. */
  readonly errorCode?: string | undefined;
  readonly durationMs: number;
}

/** Calls to the identity provider: JWKS, discovery, introspection, token exchange (STS). */
export type IdpCallKind = 'jwks' | 'discovery' | 'introspection' | 'token-exchange' | 'client-credentials';
export interface IdpStartMessage {
  /** Correlates start and finish of one call. */
  readonly id: number;
  readonly kind: IdpCallKind;
  readonly url: string;
  /** The request that caused the call, when there is one (background refreshes have none). */
  readonly exchange?: Exchange | undefined;
}
export interface IdpFinishMessage extends IdpStartMessage {
  readonly ok: boolean;
  readonly status?: number | undefined;
  readonly errorCode?: string | undefined;
  readonly durationMs: number;
}

/** Cache lookups of the shared caches (hit, miss). */
export type CacheName = 'jwks' | 'jwt' | 'introspection' | 'token-exchange' | 'tools-list';
export interface CacheLookupMessage {
  readonly cache: CacheName;
  readonly result: 'hit' | 'miss';
}

/** An audit event could not be written (queue full or sink broken). */
export interface AuditDroppedMessage {
  readonly sink: string;
  readonly reason: 'queue-full' | 'sink-error';
}

/** An SSE stream relayed to a client opened or closed. */
export interface SseStreamMessage {
  readonly exchange: Exchange;
  readonly state: 'open' | 'close';
}

export const channels = {
  upstreamStart: diagnosticsChannel.channel('bastion:upstream:start'),
  upstreamFinish: diagnosticsChannel.channel('bastion:upstream:finish'),
  idpStart: diagnosticsChannel.channel('bastion:idp:start'),
  idpFinish: diagnosticsChannel.channel('bastion:idp:finish'),
  cacheLookup: diagnosticsChannel.channel('bastion:cache:lookup'),
  auditDropped: diagnosticsChannel.channel('bastion:audit:dropped'),
  sseStream: diagnosticsChannel.channel('bastion:sse:stream'),
} as const;

let idpCallSeq = 0;

/**
 * Wrap an identity-provider call so that start/finish are published. Use from auth and
 * token-exchange: `await traceIdpCall('jwks', url, exchange, () => fetchJwks())`.
 */
export async function traceIdpCall<T>(
  kind: IdpCallKind,
  url: string,
  exchange: Exchange | undefined,
  call: () => Promise<T>,
  statusOf?: (result: T) => number | undefined,
): Promise<T> {
  if (!channels.idpStart.hasSubscribers && !channels.idpFinish.hasSubscribers) return call();
  const id = ++idpCallSeq;
  const started = performance.now();
  channels.idpStart.publish({ id, kind, url, exchange } satisfies IdpStartMessage);
  try {
    const result = await call();
    channels.idpFinish.publish({
      id,
      kind,
      url,
      exchange,
      ok: true,
      status: statusOf?.(result),
      durationMs: performance.now() - started,
    } satisfies IdpFinishMessage);
    return result;
  } catch (err) {
    const errorCode =
      typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : undefined;
    channels.idpFinish.publish({
      id,
      kind,
      url,
      exchange,
      ok: false,
      errorCode,
      durationMs: performance.now() - started,
    } satisfies IdpFinishMessage);
    throw err;
  }
}

/** Publish a cache lookup result (cheap no-op without subscribers). */
export function publishCacheLookup(cache: CacheName, result: 'hit' | 'miss'): void {
  if (channels.cacheLookup.hasSubscribers)
    channels.cacheLookup.publish({ cache, result } satisfies CacheLookupMessage);
}
