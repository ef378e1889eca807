/** How each MCP method is treated by authz. */
import type { JsonRpcMessage } from '@bastion-mcp/proxy-core';
import { ACTIONS, type ActionId } from './entity-model.js';

export type MethodClass =
  /** Names a tool / prompt / resource: evaluated before forwarding. */
  | { readonly kind: 'target'; readonly target: 'tool' | 'prompt' | 'resource' }
  /** A list: answered, its items filtered by the matching action. */
  | { readonly kind: 'list'; readonly item: 'tools' | 'prompts' | 'resources'; readonly listAction: ActionId }
  /** `subscriptions/listen`: each subscribed resource URI is authorized like `resources/read`. */
  | { readonly kind: 'listen' }
  /** No target: forwarded without a decision. */
  | { readonly kind: 'pass' }
  /** A JSON-RPC response the client sends to a server request (sampling/elicitation/roots results). */
  | { readonly kind: 'client-response' }
  /** Anything else: `defaultUnknownMethod` decides. */
  | { readonly kind: 'unknown' };

/** Methods that carry no tool, prompt or resource and are always forwarded. */
export const PASS_METHODS: ReadonlySet<string> = new Set([
  'initialize',
  'ping',
  'logging/setLevel',
  'completion/complete',
  'server/discover',
  // Templates are patterns, not concrete URIs: reading a URI built from one is authorized by resources/read.
  'resources/templates/list',
]);

const TARGETS: Record<string, 'tool' | 'prompt' | 'resource'> = {
  'tools/call': 'tool',
  'prompts/get': 'prompt',
  'resources/read': 'resource',
  'resources/subscribe': 'resource',
  'resources/unsubscribe': 'resource',
};

/**
 * Target methods removed in 2026-07-28 (resource updates moved to `subscriptions/listen`). A request of
 * that revision or later naming one is classified like any method authz does not know.
 */
export const REMOVED_IN_MODERN: ReadonlySet<string> = new Set([
  'resources/subscribe',
  'resources/unsubscribe',
]);

export const LISTS: Record<string, { item: 'tools' | 'prompts' | 'resources'; listAction: ActionId }> = {
  'tools/list': { item: 'tools', listAction: ACTIONS.listTools },
  'prompts/list': { item: 'prompts', listAction: ACTIONS.listPrompts },
  'resources/list': { item: 'resources', listAction: ACTIONS.listResources },
};

// Every answer of `classify` is one of these (frozen, shared): no allocation per request.
const TARGET_CLASS: Record<'tool' | 'prompt' | 'resource', MethodClass> = {
  tool: Object.freeze({ kind: 'target', target: 'tool' }),
  prompt: Object.freeze({ kind: 'target', target: 'prompt' }),
  resource: Object.freeze({ kind: 'target', target: 'resource' }),
};
const LIST_CLASS: Record<string, MethodClass> = Object.fromEntries(
  Object.entries(LISTS).map(([method, list]) => [method, Object.freeze({ kind: 'list', ...list })]),
);
const CLIENT_RESPONSE: MethodClass = Object.freeze({ kind: 'client-response' });
const LISTEN: MethodClass = Object.freeze({ kind: 'listen' });
const PASS: MethodClass = Object.freeze({ kind: 'pass' });
const UNKNOWN: MethodClass = Object.freeze({ kind: 'unknown' });

/**
 * Classify a message. `modern` says whether the request is of revision 2026-07-28 or later (see
 * `isModernRevision`): methods removed there are no longer targets.
 */
export function classify(
  message: JsonRpcMessage,
  extraPass: ReadonlySet<string>,
  modern = false,
): MethodClass {
  if (!('method' in message)) return CLIENT_RESPONSE;
  const method = message.method;
  // Own keys only: a method named `constructor` or `toString` is not a target or a list.
  const target =
    (modern && REMOVED_IN_MODERN.has(method)) || !Object.hasOwn(TARGETS, method)
      ? undefined
      : TARGETS[method];
  if (target) return TARGET_CLASS[target];
  const list = Object.hasOwn(LIST_CLASS, method) ? LIST_CLASS[method] : undefined;
  if (list) return list;
  if (method === 'subscriptions/listen') return LISTEN;
  if (method.startsWith('notifications/') || PASS_METHODS.has(method) || extraPass.has(method)) {
    return PASS;
  }
  return UNKNOWN;
}
