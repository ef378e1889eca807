/**
 * Pure classification of one MCP request and its outcome: what the span is named, which attributes
 * describe it, and which outcome / error type / span status the answer maps to. No OpenTelemetry
 * import here, so the rules are unit-testable and cost nothing when telemetry is off.
 */
import { BastionError, type JsonRpcMessage, ProxyHttpError } from '@bastion-mcp/proxy-core';

/** How a request ended, as a metric label. */
export type Outcome = 'success' | 'error' | 'rpc_error' | 'tool_error';

/** The MCP facts of a request, taken from the parsed JSON-RPC body. */
export interface RequestFacts {
  /** `mcp.method.name`, or `undefined` when the body is not JSON-RPC (GET stream, DELETE, 401 before parse). */
  readonly method: string | undefined;
  /** `jsonrpc.request.id` (never for notifications or a `null` id). */
  readonly requestId: string | undefined;
  /** `gen_ai.tool.name` for tools/call. */
  readonly tool: string | undefined;
  /** `gen_ai.prompt.name` for prompts/get. */
  readonly prompt: string | undefined;
  /** `mcp.resource.uri` for resources/read, subscribe, unsubscribe. */
  readonly resourceUri: string | undefined;
  /** Tool arguments (tools/call), recorded only when enabled and always redacted. */
  readonly arguments: unknown;
  /** `initialize`'s requested protocol version. */
  readonly initializeProtocolVersion: string | undefined;
  /** `params._meta` (SEP-414 trace context lives here). */
  readonly meta: Record<string, unknown> | undefined;
}

const MAX_NAME = 128;

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v.slice(0, MAX_NAME) : undefined;
}

/** Extract the MCP facts of a parsed JSON-RPC message (or `undefined`). */
export function requestFacts(rpc: JsonRpcMessage | undefined): RequestFacts {
  if (rpc === undefined || !('method' in rpc) || typeof rpc.method !== 'string') {
    return {
      method: undefined,
      requestId: undefined,
      tool: undefined,
      prompt: undefined,
      resourceUri: undefined,
      arguments: undefined,
      initializeProtocolVersion: undefined,
      meta: undefined,
    };
  }
  const params = (typeof rpc.params === 'object' && rpc.params !== null ? rpc.params : {}) as Record<
    string,
    unknown
  >;
  const id = 'id' in rpc ? rpc.id : undefined;
  const method = rpc.method.slice(0, MAX_NAME);
  const meta = params._meta;
  return {
    method,
    requestId: typeof id === 'string' || typeof id === 'number' ? String(id) : undefined,
    tool: method === 'tools/call' ? str(params.name) : undefined,
    prompt: method === 'prompts/get' ? str(params.name) : undefined,
    resourceUri:
      method === 'resources/read' || method === 'resources/subscribe' || method === 'resources/unsubscribe'
        ? typeof params.uri === 'string'
          ? params.uri
          : undefined
        : undefined,
    arguments: method === 'tools/call' ? params.arguments : undefined,
    initializeProtocolVersion: method === 'initialize' ? str(params.protocolVersion) : undefined,
    meta:
      typeof meta === 'object' && meta !== null && !Array.isArray(meta)
        ? (meta as Record<string, unknown>)
        : undefined,
  };
}

/** Span name per the MCP semconv: `<method> <tool|prompt>`, `<method>`, or `<HTTP method> <path>` when not JSON-RPC. */
export function spanNameOf(facts: RequestFacts, httpMethod: string, path: string): string {
  if (facts.method === undefined) return `${httpMethod} ${path}`;
  const target = facts.tool ?? facts.prompt;
  return target === undefined ? facts.method : `${facts.method} ${target}`;
}

/** The HTTP status the edge mapper will answer for a thrown error (ProxyHttpError → its status, else 500). */
export function statusOfError(err: unknown): number {
  if (err instanceof ProxyHttpError) return err.status;
  const status = BastionError.isInstance(err) ? (err as unknown as { status?: unknown }).status : undefined;
  return typeof status === 'number' && status >= 400 && status <= 599 ? status : 500;
}

/** The JSON-RPC code the edge mapper puts in the body for a thrown error, when it answers JSON-RPC. */
export function rpcCodeOfError(err: unknown): number | undefined {
  if (err instanceof ProxyHttpError && err.oauthError === undefined) return err.rpcCode;
  return undefined;
}

/** What the final answer was, as far as telemetry needs it. */
export interface AnswerFacts {
  readonly status: number;
  /** JSON-RPC error code of the answer to this request, when it was an error. */
  readonly rpcErrorCode?: number | undefined;
  /** JSON-RPC error message (or public message) for the span status description. */
  readonly rpcErrorMessage?: string | undefined;
  /** tools/call answered with `isError: true`. */
  readonly toolError?: boolean | undefined;
}

export interface Classification {
  readonly outcome: Outcome;
  /** `error.type`: the JSON-RPC code, `tool_error`, or the HTTP status as a string; `undefined` on success. */
  readonly errorType: string | undefined;
}

/**
 * Classify an answer. HTTP status ≥ 400 is an `error` (error.type = the JSON-RPC code when the body is a
 * JSON-RPC error, else the status); a JSON-RPC error inside a 2xx is `rpc_error`; a tools/call result with
 * `isError: true` is `tool_error` (MCP semconv).
 */
export function classify(answer: AnswerFacts): Classification {
  if (answer.status >= 400) {
    // 5xx always reports the HTTP status (the operator's view: which gateway failure it was).
    const errorType =
      answer.status < 500 && answer.rpcErrorCode !== undefined
        ? String(answer.rpcErrorCode)
        : String(answer.status);
    return { outcome: 'error', errorType };
  }
  if (answer.rpcErrorCode !== undefined)
    return { outcome: 'rpc_error', errorType: String(answer.rpcErrorCode) };
  if (answer.toolError === true) return { outcome: 'tool_error', errorType: 'tool_error' };
  return { outcome: 'success', errorType: undefined };
}

/** A header value as one string (first of a repeated header), truncated to 256 characters. */
export function headerValue(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' && s.length > 0 ? s.slice(0, 256) : undefined;
}

/** A protocol version label is kept only when it looks like one (`YYYY-MM-DD`), so it cannot explode cardinality. */
export function protocolVersionLabel(v: string | undefined): string | undefined {
  return v !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : undefined;
}
