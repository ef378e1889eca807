/**
 * The audit event: one per MCP request (or stream/session operation), serialised as one JSON line.
 * The JSON Schema in `schema.ts` (also published as `schema/audit-event.schema.json`) describes it.
 */

/** Every event type the middleware produces. */
export const AUDIT_EVENT_TYPES = [
  'mcp_initialize',
  'mcp_tool_call',
  'mcp_list_tools',
  'mcp_list_prompts',
  'mcp_prompt_get',
  'mcp_list_resources',
  'mcp_list_resource_templates',
  'mcp_resource_read',
  'mcp_ping',
  'mcp_request',
  'mcp_notification',
  'mcp_response',
  'http_request',
  'sse_connection',
  'session_delete',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export const AUDIT_OUTCOMES = ['success', 'denied', 'failure', 'error', 'application_error'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export interface AuditSubject {
  /** Stable user id from the identity (`sub` by default). Absent when the request was not authenticated. */
  userId?: string;
  name?: string;
  email?: string;
  /** `jwt`, `opaque` or `anonymous`, as established by the auth layer. */
  tokenKind?: string;
  /** MCP client name/version from `initialize` params (`clientInfo`) or 2026-07-28 `_meta`. */
  clientName?: string;
  clientVersion?: string;
}

export interface AuditSource {
  /** Client IP: the TCP peer, or the X-Forwarded-For entry chosen through the trusted-proxy list. */
  ip: string;
  /** The TCP peer address when it differs from `ip` (a trusted proxy). */
  peer?: string;
  userAgent?: string;
  /** Request id (the inbound `x-request-id` or the one the proxy generated). */
  requestId: string;
}

export interface AuditTarget {
  /** Logical MCP server name. */
  server: string;
  /** Inbound path (`/mcp`, `/sse`, `/messages`). */
  endpoint: string;
  httpMethod: string;
  /** JSON-RPC method, when the body was JSON-RPC with a method. */
  method?: string;
  /** JSON-RPC id of the request (or of the answered request for `mcp_response`). */
  rpcId?: string | number;
  /** Real (upstream) tool name. */
  tool?: string;
  /** The name the client used, when tool renaming made it differ from `tool`. */
  clientToolName?: string;
  prompt?: string;
  resource?: string;
  /** `Mcp-Session-Id` of the request, or the one the upstream assigned on `initialize`. */
  sessionId?: string;
}

export interface AuditDelegation {
  /** Actors, outermost (the current actor) first, from nested RFC 8693 `act` claims. */
  chain: Array<{ sub?: string; iss?: string; clientId?: string }>;
  /** `true` when the chain was deeper than the configured maximum. */
  truncated: boolean;
  /** `true` when an `act` value was not an object. */
  malformed: boolean;
}

export interface AuditPayloads {
  request?: unknown;
  response?: unknown;
  /** Set when a payload was left out because it exceeded `payloads.maxBytes` after redaction. */
  requestOmitted?: { reason: 'too_large' | 'not_json'; bytes: number };
  responseOmitted?: { reason: 'too_large' | 'not_json' | 'not_captured'; bytes?: number };
}

export interface AuditEvent {
  auditId: string;
  /** UTC ISO 8601 time the request arrived. */
  time: string;
  type: AuditEventType;
  outcome: AuditOutcome;
  subject: AuditSubject;
  source: AuditSource;
  target: AuditTarget;
  durationMs: number;
  /** HTTP status sent to the client. */
  status: number;
  /** HTTP status of the upstream response, when the upstream was contacted. */
  upstreamStatus?: number;
  /** JSON-RPC error of the answer (from the upstream or from a proxy layer). */
  rpcError?: { code: number; message: string };
  /** `true` when a `tools/call` result carried `isError: true`. */
  toolError?: boolean;
  /** Stable error code (`ERR_BASTION_...`) when a proxy layer refused or failed the request. */
  errorCode?: string;
  /** Which middleware refused the request (`auth`, `authz`, `tool-filter`, ...). */
  rejectedBy?: string;
  authz?: { decision: 'allow' | 'deny'; policyIds: string[]; reason?: string };
  /** How the upstream credential was obtained (`exchange`, `client-credentials`, `static`, `oauth`). */
  upstreamCredential?: string;
  /** Facts the token-exchange layer recorded (cache hit, audience ...); never a token. */
  tokenExchange?: Record<string, string | number | boolean>;
  delegation?: AuditDelegation;
  /** `true` when an SSE response ended before its final JSON-RPC answer (client gone, upstream cut). */
  streamIncomplete?: boolean;
  data?: AuditPayloads;
}
