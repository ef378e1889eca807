/** Options of the audit middleware, validated once at construction. */
import type { AuditorOptions } from './auditor.js';
import type { AuditEventType } from './event.js';
import { AUDIT_EVENT_TYPES } from './event.js';
import { DEFAULT_REDACT_KEYS } from './redact.js';
import { createFileSink } from './sinks/file.js';
import type { FileSinkOptions } from './sinks/file.js';
import { createOtelSink } from './sinks/otel.js';
import type { OtelSinkOptions } from './sinks/otel.js';
import type { AuditSink } from './sinks/sink.js';
import { createStreamSink } from './sinks/stream.js';
import type { StreamSinkOptions } from './sinks/stream.js';
import { TrustedProxies } from './source.js';

export type AuditSinkConfig =
  | ({ type: 'stdout' } & StreamSinkOptions)
  | ({ type: 'file' } & FileSinkOptions)
  | ({ type: 'otel' } & OtelSinkOptions);

export interface AuditPayloadOptions {
  /** Record the client's JSON-RPC request (redacted). Default `true`. */
  request?: boolean | undefined;
  /** Record the final JSON-RPC answer (redacted). Default `true`. */
  response?: boolean | undefined;
  /** Largest payload recorded, bytes of redacted JSON; larger ones are left out and reported. Default 4096. */
  maxBytes?: number | undefined;
  /** Keys whose values are replaced by `[REDACTED]`. Default: password/token/secret/key/authorization/cookie/credential. */
  redactKeys?: RegExp | readonly string[] | undefined;
}

export interface AuditOptions {
  /** Default `true`. When `false` the middleware passes every request through untouched. */
  enabled?: boolean | undefined;
  /** Only these event types are recorded. Default: all. */
  includeTypes?: readonly AuditEventType[] | undefined;
  /** These event types are never recorded (wins over `includeTypes`). Default: none. */
  excludeTypes?: readonly AuditEventType[] | undefined;
  /** Request/response payload capture. Default: off. */
  payloads?: AuditPayloadOptions | undefined;
  /** Proxies (IPs or CIDRs) whose X-Forwarded-For is believed. Default: none (the TCP peer is the client). */
  trustedProxies?: readonly string[] | undefined;
  /** Longest delegation chain recorded from nested `act` claims. Default 5. */
  maxDelegationDepth?: number | undefined;
  /** Where events go. Default `[{ type: 'stdout' }]`. Custom `AuditSink` objects are accepted. */
  sinks?: ReadonlyArray<AuditSinkConfig | AuditSink> | undefined;
  /** Per-sink queue capacity, events. Default 10000. */
  queueSize?: number | undefined;
  /** How long `close()` waits for queues to drain, ms. Default 5000. */
  closeTimeoutMs?: number | undefined;
  /** Called for every drop (e.g. to log it); `error` is an `AuditSinkError` for sink failures. Must not throw. */
  onDrop?: AuditorOptions['onDrop'];
}

export interface ResolvedAuditOptions {
  enabled: boolean;
  types: ReadonlySet<AuditEventType>;
  payloads: { request: boolean; response: boolean; maxBytes: number; redactKeys: RegExp } | undefined;
  trustedProxies: TrustedProxies;
  maxDelegationDepth: number;
  sinks: AuditSink[];
  queueSize: number | undefined;
  closeTimeoutMs: number | undefined;
  onDrop: AuditorOptions['onDrop'];
}

const KNOWN_TYPES = new Set<string>(AUDIT_EVENT_TYPES);

function typeList(name: string, value: unknown): AuditEventType[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new TypeError(`"${name}" must be an array of event types`);
  for (const t of value) {
    if (typeof t !== 'string' || !KNOWN_TYPES.has(t)) {
      throw new TypeError(
        `"${name}" contains unknown event type ${JSON.stringify(t)}; known: ${AUDIT_EVENT_TYPES.join(', ')}`,
      );
    }
  }
  return value as AuditEventType[];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function redactPattern(value: AuditPayloadOptions['redactKeys']): RegExp {
  if (value === undefined) return DEFAULT_REDACT_KEYS;
  if (value instanceof RegExp) return new RegExp(value.source, value.flags.replace(/[gy]/g, ''));
  if (Array.isArray(value) && value.every((k) => typeof k === 'string' && k.length > 0)) {
    if (value.length === 0) return /(?!)/; // nothing by key; the token/JWT value scan still applies
    return new RegExp(`^(?:${value.map(escapeRegExp).join('|')})$`, 'i');
  }
  throw new TypeError('"payloads.redactKeys" must be a RegExp or an array of non-empty strings');
}

function buildSink(config: AuditSinkConfig | AuditSink): AuditSink {
  if (config && typeof (config as AuditSink).write === 'function') return config as AuditSink;
  const c = config as AuditSinkConfig;
  switch (c?.type) {
    case 'stdout':
      return createStreamSink(c);
    case 'file':
      return createFileSink(c);
    case 'otel':
      return createOtelSink(c);
    default:
      throw new TypeError(
        `"sinks" entries must be { type: 'stdout' | 'file' | 'otel', ... } or an AuditSink; got ${JSON.stringify((c as { type?: unknown })?.type)}`,
      );
  }
}

export function resolveAuditOptions(options: AuditOptions = {}): ResolvedAuditOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('audit options must be an object');
  const enabled = options.enabled ?? true;
  if (typeof enabled !== 'boolean') throw new TypeError('"enabled" must be a boolean');
  const include = typeList('includeTypes', options.includeTypes);
  const exclude = new Set(typeList('excludeTypes', options.excludeTypes) ?? []);
  const types = new Set<AuditEventType>((include ?? AUDIT_EVENT_TYPES).filter((t) => !exclude.has(t)));

  let payloads: ResolvedAuditOptions['payloads'];
  if (options.payloads !== undefined) {
    const p = options.payloads;
    if (typeof p !== 'object' || p === null) throw new TypeError('"payloads" must be an object');
    const maxBytes = p.maxBytes ?? 4096;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1)
      throw new TypeError('"payloads.maxBytes" must be a positive integer');
    for (const k of ['request', 'response'] as const) {
      if (p[k] !== undefined && typeof p[k] !== 'boolean')
        throw new TypeError(`"payloads.${k}" must be a boolean`);
    }
    payloads = {
      request: p.request ?? true,
      response: p.response ?? true,
      maxBytes,
      redactKeys: redactPattern(p.redactKeys),
    };
  }

  const trusted = options.trustedProxies ?? [];
  if (!Array.isArray(trusted)) throw new TypeError('"trustedProxies" must be an array of IPs or CIDRs');
  const maxDelegationDepth = options.maxDelegationDepth ?? 5;
  if (!Number.isSafeInteger(maxDelegationDepth) || maxDelegationDepth < 1 || maxDelegationDepth > 64) {
    throw new TypeError('"maxDelegationDepth" must be an integer between 1 and 64');
  }
  const sinkConfigs = options.sinks ?? [{ type: 'stdout' as const }];
  if (!Array.isArray(sinkConfigs)) throw new TypeError('"sinks" must be an array');
  if (options.onDrop !== undefined && typeof options.onDrop !== 'function') {
    throw new TypeError('"onDrop" must be a function');
  }

  return {
    enabled,
    types,
    payloads,
    trustedProxies: new TrustedProxies(trusted),
    maxDelegationDepth,
    // Sinks are only opened when auditing is on (a disabled audit must not create files).
    sinks: enabled ? sinkConfigs.map(buildSink) : [],
    queueSize: options.queueSize,
    closeTimeoutMs: options.closeTimeoutMs,
    onDrop: options.onDrop,
  };
}
