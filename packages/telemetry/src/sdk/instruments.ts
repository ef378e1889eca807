/**
 * The metric instruments of one telemetry instance: what they are (names, descriptions, units — the
 * public contract of names.ts) and the calls the request path and the diagnostics channels make.
 * `request-metrics.ts` implements those calls.
 */
import { MetricName } from '../names.js';

export type InstrumentKind = 'counter' | 'updown' | 'histogram';

export interface InstrumentSpec {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  readonly kind: InstrumentKind;
}

/** Every synchronous instrument, in the order they are exported (and were created on the SDK meter). */
export const INSTRUMENTS = {
  requests: {
    name: MetricName.Requests,
    description: 'MCP requests handled by the proxy, by method, tool, outcome and HTTP status',
    unit: '{request}',
    kind: 'counter',
  },
  requestDuration: {
    name: MetricName.RequestDuration,
    description: 'Duration of MCP requests through the proxy, until the response body ended',
    unit: 's',
    kind: 'histogram',
  },
  toolCalls: {
    name: MetricName.ToolCalls,
    description: 'tools/call requests by tool and outcome',
    unit: '{call}',
    kind: 'counter',
  },
  operationDuration: {
    name: MetricName.OperationDuration,
    description: 'MCP request duration as observed by the server',
    unit: 's',
    kind: 'histogram',
  },
  activeSseStreams: {
    name: MetricName.ActiveSseStreams,
    description: 'SSE streams currently relayed to clients',
    unit: '{stream}',
    kind: 'updown',
  },
  upstreamDuration: {
    name: MetricName.UpstreamDuration,
    description: 'Time until the remote MCP server answered with headers (or failed)',
    unit: 's',
    kind: 'histogram',
  },
  idpDuration: {
    name: MetricName.IdpDuration,
    description: 'Calls to the identity provider (JWKS, introspection, STS)',
    unit: 's',
    kind: 'histogram',
  },
  cacheLookups: {
    name: MetricName.CacheLookups,
    description: 'Lookups in the shared caches (jwks, introspection, token-exchange, tools-list) by result',
    unit: '{lookup}',
    kind: 'counter',
  },
  auditDropped: {
    name: MetricName.AuditDropped,
    description: 'Audit events that could not be written',
    unit: '{event}',
    kind: 'counter',
  },
} as const satisfies Record<string, InstrumentSpec>;

export type InstrumentId = keyof typeof INSTRUMENTS;

/**
 * The samples of one telemetry instance. Label values are passed as they are; each call finds its
 * series from them without building an attribute object (see `request-metrics.ts`).
 */
export interface Instruments {
  /**
   * A finished request: `bastion_mcp_requests` + `bastion_mcp_request_duration_seconds`
   * `{server, mcp_method, outcome, status_code[, tool]}`, and for `tools/call` `bastion_mcp_tool_calls`
   * `{server, tool (other when undefined), outcome}`.
   */
  request(
    server: string,
    method: string,
    tool: string | undefined,
    outcome: string,
    status: number,
    seconds: number,
  ): void;
  /**
   * `mcp.server.operation.duration` of a JSON-RPC request. `protocol` is the raw protocol version
   * (header or initialize's); it becomes a label only when shaped like `YYYY-MM-DD`.
   */
  operation(
    method: string,
    tool: string | undefined,
    errorType: string | undefined,
    rpcErrorCode: number | undefined,
    protocol: string | undefined,
    seconds: number,
  ): void;
  /** `bastion_upstream_request_duration_seconds{server, status_code (none without an answer)[, error_type]}`. */
  upstream(server: string, status: number | undefined, errorType: string | undefined, seconds: number): void;
  /** `bastion_idp_request_duration_seconds{kind, outcome}`. */
  idp(kind: string, ok: boolean, seconds: number): void;
  /** `bastion_cache_lookups{cache, result}` + 1. */
  cacheLookup(cache: string, result: string): void;
  /** `bastion_audit_dropped_events{sink, reason}` + 1. */
  auditDropped(sink: string, reason: string): void;
  /** `bastion_mcp_active_sse_streams{server}` + `delta` (1 open, -1 close). */
  sseStream(server: string, delta: number): void;
}
