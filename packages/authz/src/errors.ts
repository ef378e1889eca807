/**
 * Errors of the authz package. Load-time problems (a policy that does not parse, a schema violation,
 * an unreadable file) are `AuthzConfigError`s carrying a list of precise issues; request-time
 * answers (deny, header mismatch) are `ProxyHttpError`s that proxy-core's edge mapper turns into
 * JSON-RPC errors.
 */
import { BastionError, JsonRpcErrorCode, ProxyHttpError } from '@bastion-mcp/proxy-core';

export const AuthzErrorCode = {
  /** A policy source does not parse as Cedar. */
  PolicyInvalid: 'ERR_BASTION_AUTHZ_POLICY_INVALID',
  /** A policy does not validate against the configured schema. */
  PolicyValidation: 'ERR_BASTION_AUTHZ_POLICY_VALIDATION',
  /** The schema does not parse. */
  SchemaInvalid: 'ERR_BASTION_AUTHZ_SCHEMA_INVALID',
  /** The entities JSON does not parse (or does not match the schema). */
  EntitiesInvalid: 'ERR_BASTION_AUTHZ_ENTITIES_INVALID',
  /** A policy, schema or entities file cannot be read. */
  SourceUnreadable: 'ERR_BASTION_AUTHZ_SOURCE_UNREADABLE',
  /** No policy was configured (Cedar would deny everything). */
  NoPolicies: 'ERR_BASTION_AUTHZ_NO_POLICIES',
  /** A request was denied by policy (HTTP 403). */
  Denied: 'ERR_BASTION_AUTHZ_DENIED',
  /**
   * A method authz does not know, refused by `defaultUnknownMethod: "deny"` (or removed in the
   * request's revision): answered like a server without it, `-32601` (HTTP 404 from 2026-07-28, else 200).
   */
  MethodNotFound: 'ERR_BASTION_AUTHZ_METHOD_NOT_FOUND',
  /** A `tools/call` / `prompts/get` / `resources/read` without its name or URI (HTTP 400, `-32602`). */
  InvalidParams: 'ERR_BASTION_AUTHZ_INVALID_PARAMS',
  /** `Mcp-Method` / `Mcp-Name` headers disagree with the JSON-RPC body (HTTP 400, `-32020`). */
  HeaderMismatch: 'ERR_BASTION_AUTHZ_HEADER_MISMATCH',
  /** A 2xx list response was neither JSON nor SSE (or its JSON did not parse), so it cannot be filtered (HTTP 502). */
  UnfilterableResponse: 'ERR_BASTION_AUTHZ_UNFILTERABLE_RESPONSE',
} as const;
export type AuthzErrorCode = (typeof AuthzErrorCode)[keyof typeof AuthzErrorCode];

/** One precise problem found while loading the configuration. */
export interface AuthzConfigIssue {
  /** Where the text came from: `policies[0]`, a file path, `schema`, `entities`. */
  readonly source: string;
  /** Cedar policy id, when the problem belongs to one policy. */
  readonly policyId?: string | undefined;
  /** 1-based line and column inside `source`, when Cedar reported a location. */
  readonly line?: number | undefined;
  readonly column?: number | undefined;
  /** Cedar's message (and its help text, if any). */
  readonly message: string;
}

function formatIssue(issue: AuthzConfigIssue): string {
  const where =
    issue.line === undefined ? issue.source : `${issue.source}:${issue.line}:${issue.column ?? 1}`;
  const id = issue.policyId === undefined ? '' : ` (policy "${issue.policyId}")`;
  return `${where}${id}: ${issue.message}`;
}

/** A configuration that cannot be loaded. `issues` lists every problem found, each with its location. */
export class AuthzConfigError extends BastionError {
  static override readonly code: string = AuthzErrorCode.PolicyInvalid;
  readonly issues: readonly AuthzConfigIssue[];

  constructor(
    code: AuthzErrorCode,
    summary: string,
    issues: readonly AuthzConfigIssue[] = [],
    options?: { cause?: unknown },
  ) {
    const detail = issues.map((i) => `\n  - ${formatIssue(i)}`).join('');
    super(`${summary}${detail}`, { code, cause: options?.cause });
    this.issues = issues;
  }
}

/** The generic message a denied client sees; it never reveals policy text or ids. */
export const DENIED_MESSAGE = 'Access denied by policy';

/**
 * JSON-RPC error code of a policy denial. Deliberately outside the reserved -32768…-32000 range and
 * the same as ToolHive's (`JSONRPCCodeDenied`), so clients and dashboards written for it keep working.
 */
export const DENIED_RPC_CODE = 403;

/** JSON-RPC error code of a header/body mismatch (MCP 2026-07-28 `HeaderMismatch`). */
export const HEADER_MISMATCH_RPC_CODE = -32020;

export function deniedError(): ProxyHttpError {
  return new ProxyHttpError({
    status: 403,
    rpcCode: DENIED_RPC_CODE,
    publicMessage: DENIED_MESSAGE,
    code: AuthzErrorCode.Denied,
  });
}

/**
 * A method refused without a decision, answered like a server that does not implement it: `-32601`
 * "Method not found", on HTTP 404 for 2026-07-28+ requests (that revision's rule) and on HTTP 200 for
 * older ones (where JSON-RPC errors ride on 200, as an upstream SDK server answers).
 */
export function methodNotFoundError(modern: boolean): ProxyHttpError {
  return new ProxyHttpError({
    status: modern ? 404 : 200,
    rpcCode: JsonRpcErrorCode.MethodNotFound,
    publicMessage: 'Method not found',
    code: AuthzErrorCode.MethodNotFound,
  });
}

/** A target request without the tool/prompt name or resource URI authz must decide on: 400, `-32602`. */
export function invalidParamsError(kind: 'tool' | 'prompt' | 'resource'): ProxyHttpError {
  return new ProxyHttpError({
    status: 400,
    rpcCode: JsonRpcErrorCode.InvalidParams,
    publicMessage: 'Invalid params',
    code: AuthzErrorCode.InvalidParams,
    message: `${kind} request without ${kind === 'resource' ? 'params.uri' : 'params.name'}`,
  });
}

export function headerMismatchError(header: 'Mcp-Method' | 'Mcp-Name', missing: boolean): ProxyHttpError {
  return new ProxyHttpError({
    status: 400,
    rpcCode: HEADER_MISMATCH_RPC_CODE,
    publicMessage: missing
      ? `Missing required ${header} header`
      : `${header} header does not match the request body`,
    code: AuthzErrorCode.HeaderMismatch,
  });
}
