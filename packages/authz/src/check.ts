/**
 * `checkRequest`: the decision for one MCP request without a proxy — what `bastion authz check`
 * prints. Useful to policy authors and in tests.
 */
import type { Identity, JsonRpcMessage } from '@bastion-mcp/proxy-core';
import type { EntityJson, TypeAndId } from './cedar.js';
import {
  allow,
  argumentsOf,
  deny,
  evaluateListAction,
  evaluateListen,
  evaluateTarget,
  type RequestDecision,
  targetOfRequest,
} from './decide.js';
import { type EvaluationError, PolicyEngine, type PolicySetInput } from './engine.js';
import { buildPrincipal, pickAnnotations } from './entity-model.js';
import { isModernRevision, metaProtocolVersionOf } from './headers.js';
import { classify } from './methods.js';

export interface CheckRequestInput extends PolicySetInput {
  /** An already loaded engine (skips loading `policies`/`policyFiles`). */
  readonly engine?: PolicyEngine | undefined;
  /** Token claims (e.g. a decoded JWT payload). */
  readonly claims: Readonly<Record<string, unknown>>;
  /** The MCP JSON-RPC request to decide. */
  readonly request: JsonRpcMessage;
  /** Logical server name (`MCP::"<name>"`). Default `mcp`. */
  readonly serverName?: string | undefined;
  /** Claim holding the user id. Default `sub`. */
  readonly subjectClaim?: string | undefined;
  /** Claim holding groups (dotted paths allowed). Default `groups`. */
  readonly groupsClaim?: string | undefined;
  /** Claim holding roles (dotted paths allowed). Default `roles`. */
  readonly rolesClaim?: string | undefined;
  readonly groupEntityType?: string | undefined;
  readonly roleEntityType?: string | undefined;
  /** Annotations of the called tool as its upstream declares them (there is no upstream here). */
  readonly toolAnnotations?: Readonly<Record<string, unknown>> | undefined;
  readonly defaultUnknownMethod?: 'deny' | 'allow' | undefined;
  readonly authorizeListRequests?: boolean | undefined;
}

export interface CheckRequestResult {
  readonly decision: 'allow' | 'deny';
  readonly policyIds: string[];
  /** Why, in words: which policies permitted or forbade, or why no policy was evaluated. */
  readonly reasons: string[];
  readonly errors: readonly EvaluationError[];
  readonly principal?: TypeAndId | undefined;
  readonly action?: string | undefined;
  readonly resource?: TypeAndId | undefined;
}

function claimAt(claims: Readonly<Record<string, unknown>>, path: string): unknown {
  if (path in claims) return claims[path];
  let cur: unknown = claims;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function stringList(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/[\s,]+/).filter(Boolean);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** An `Identity` from raw claims, the way the auth middleware builds one (for offline checks). */
export function identityFromClaims(
  claims: Readonly<Record<string, unknown>>,
  mapping: {
    subjectClaim?: string | undefined;
    groupsClaim?: string | undefined;
    rolesClaim?: string | undefined;
  } = {},
): Identity {
  const subject = claimAt(claims, mapping.subjectClaim ?? 'sub');
  if (typeof subject !== 'string' || subject === '') {
    throw new TypeError(`"claims" must contain a non-empty string "${mapping.subjectClaim ?? 'sub'}" claim`);
  }
  return {
    subject,
    name: typeof claims.name === 'string' ? claims.name : undefined,
    email: typeof claims.email === 'string' ? claims.email : undefined,
    groups: stringList(claimAt(claims, mapping.groupsClaim ?? 'groups')),
    roles: stringList(claimAt(claims, mapping.rolesClaim ?? 'roles')),
    scopes: stringList(claims.scope ?? claims.scp),
    claims,
    tokenKind: 'jwt',
  };
}

/**
 * Decide one MCP request for the given claims.
 * @example
 * const r = await checkRequest({
 *   policies: ['permit(principal, action == Action::"call_tool", resource == Tool::"echo");'],
 *   claims: { sub: 'alice' },
 *   request: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: {} } },
 * });
 * r.decision; // 'allow'
 */
export async function checkRequest(input: CheckRequestInput): Promise<CheckRequestResult> {
  if (typeof input !== 'object' || input === null) throw new TypeError('"input" must be an object');
  if (typeof input.claims !== 'object' || input.claims === null)
    throw new TypeError('"claims" must be an object');
  const req = input.request as unknown;
  if (typeof req !== 'object' || req === null || (req as { jsonrpc?: unknown }).jsonrpc !== '2.0') {
    throw new TypeError('"request" must be a JSON-RPC 2.0 message');
  }
  const engine = input.engine ?? (await PolicyEngine.create(input));
  const serverName = input.serverName ?? 'mcp';
  const identity = identityFromClaims(input.claims, input);
  const principal = buildPrincipal(identity, {
    groupEntityType: input.groupEntityType ?? 'Group',
    roleEntityType: input.roleEntityType ?? 'Role',
  });
  const message = input.request;
  // No headers here: the revision comes from `_meta` (2026-07-28+ requests carry it).
  const cls = classify(message, new Set(), isModernRevision(metaProtocolVersionOf(message)));
  let d: RequestDecision;
  switch (cls.kind) {
    case 'client-response':
      d = allow('a client response to a server request is never blocked');
      break;
    case 'pass':
      d = allow(`method "${(message as { method: string }).method}" names no tool, prompt or resource`);
      break;
    case 'unknown':
      d =
        (input.defaultUnknownMethod ?? 'deny') === 'allow'
          ? allow('unknown method allowed by defaultUnknownMethod')
          : deny('unknown method denied by defaultUnknownMethod');
      break;
    case 'list':
      d = input.authorizeListRequests
        ? evaluateListAction(engine, principal, serverName, cls)
        : allow(
            `list answered; each item is filtered by "${cls.item === 'tools' ? 'call_tool' : cls.item === 'prompts' ? 'get_prompt' : 'read_resource'}"`,
          );
      break;
    case 'listen':
      d = evaluateListen(engine, principal, serverName, message);
      break;
    default: {
      const annotations = input.toolAnnotations ? pickAnnotations(input.toolAnnotations) : undefined;
      const target = targetOfRequest(message, cls.target, annotations);
      d = target
        ? evaluateTarget(engine, principal, serverName, target, argumentsOf(message))
        : deny(`malformed ${cls.target} request`);
    }
  }
  const reasons = [
    d.reason,
    ...d.errors.map((e) => `policy "${e.policyId}" failed to evaluate: ${e.message}`),
  ];
  return {
    decision: d.decision,
    policyIds: d.policyIds,
    reasons,
    errors: d.errors,
    principal: principal.uid,
    action: d.action,
    resource: d.resource,
  };
}

export type { EntityJson };
