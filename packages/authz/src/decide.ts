/**
 * The decision for one MCP request message, shared by the middleware and `checkRequest`.
 */
import type { JsonRpcMessage } from '@bastion-mcp/proxy-core';
import type { TypeAndId } from './cedar.js';
import { type Decision, EVALUATE_KEYED, type PolicyEngine } from './engine.js';
import {
  ACTIONS,
  type ActionId,
  actionOf,
  type PrincipalPart,
  requestFrom,
  requestKey,
  resourceOf,
  type Target,
  type ToolAnnotations,
} from './entity-model.js';
import type { MethodClass } from './methods.js';
import { prefixedAttributes } from './values.js';

/** A decision plus what was evaluated (absent when nothing was). */
export interface RequestDecision extends Decision {
  readonly action?: string | undefined;
  readonly resource?: TypeAndId | undefined;
}

export function allow(reason: string): RequestDecision {
  return { decision: 'allow', policyIds: [], reason, errors: [] };
}

export function deny(reason: string): RequestDecision {
  return { decision: 'deny', policyIds: [], reason, errors: [] };
}

function paramsOf(message: JsonRpcMessage): Record<string, unknown> {
  return (
    'params' in message && message.params && typeof message.params === 'object' ? message.params : {}
  ) as Record<string, unknown>;
}

/** The tool / prompt / resource a targeted request names, or `undefined` when the params are malformed. */
export function targetOfRequest(
  message: JsonRpcMessage,
  kind: 'tool' | 'prompt' | 'resource',
  annotations?: ToolAnnotations,
): Target | undefined {
  const params = paramsOf(message);
  if (kind === 'resource')
    return typeof params.uri === 'string' ? { kind: 'resource', uri: params.uri } : undefined;
  if (typeof params.name !== 'string') return undefined;
  return kind === 'prompt'
    ? { kind: 'prompt', name: params.name }
    : { kind: 'tool', name: params.name, annotations };
}

/** `params.arguments` when it is an object. */
export function argumentsOf(message: JsonRpcMessage): Record<string, unknown> | undefined {
  const args = paramsOf(message).arguments;
  return args && typeof args === 'object' && !Array.isArray(args)
    ? (args as Record<string, unknown>)
    : undefined;
}

/**
 * The engine's decision on one request, the Cedar request built only when the decision cache does
 * not know it (a hit costs the argument mapping and a short key).
 */
function decide(
  engine: PolicyEngine,
  principal: PrincipalPart,
  serverName: string,
  target: Target,
  args: Readonly<Record<string, unknown>> | undefined,
  action?: ActionId,
): RequestDecision {
  const argAttrs = prefixedAttributes('arg_', args);
  const d = engine[EVALUATE_KEYED](requestKey(principal, serverName, target, argAttrs, action), () =>
    requestFrom(principal, serverName, target, argAttrs, action),
  );
  return {
    decision: d.decision,
    policyIds: [...d.policyIds],
    reason: d.reason,
    errors: d.errors,
    action: actionOf(target, action),
    resource: resourceOf(serverName, target),
  };
}

export function evaluateTarget(
  engine: PolicyEngine,
  principal: PrincipalPart,
  serverName: string,
  target: Target,
  args?: Record<string, unknown> | undefined,
): RequestDecision {
  return decide(engine, principal, serverName, target, args);
}

/** Each URI of a `subscriptions/listen` `notifications.resourceSubscriptions` must be readable. */
export function evaluateListen(
  engine: PolicyEngine,
  principal: PrincipalPart,
  serverName: string,
  message: JsonRpcMessage,
): RequestDecision {
  const notifications = paramsOf(message).notifications as { resourceSubscriptions?: unknown } | undefined;
  const uris = notifications?.resourceSubscriptions;
  if (uris === undefined) return allow('listen without resource subscriptions');
  if (!Array.isArray(uris)) return deny('malformed resourceSubscriptions');
  const policyIds = new Set<string>();
  for (const uri of uris) {
    if (typeof uri !== 'string') return deny('malformed resourceSubscriptions');
    const d = evaluateTarget(engine, principal, serverName, { kind: 'resource', uri });
    if (d.decision === 'deny') return d;
    for (const id of d.policyIds) policyIds.add(id);
  }
  return {
    decision: 'allow',
    policyIds: [...policyIds],
    reason: 'every subscribed resource is readable',
    errors: [],
  };
}

/** `list_*` evaluated on `MCP::"<server>"` (only with `authorizeListRequests`). */
export function evaluateListAction(
  engine: PolicyEngine,
  principal: PrincipalPart,
  serverName: string,
  cls: Extract<MethodClass, { kind: 'list' }>,
): RequestDecision {
  return decide(engine, principal, serverName, { kind: 'server' }, undefined, cls.listAction);
}

export { ACTIONS };
