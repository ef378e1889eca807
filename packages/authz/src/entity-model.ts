/**
 * The entity model, compatible with the reference (ToolHive) so its policies carry over:
 *
 * - principal `Client::"<identity.subject>"`, attributes `claim_<name>` for every claim, parents
 *   `<groupEntityType>::"<g>"` for each group and `<roleEntityType>::"<r>"` for each role;
 * - actions `Action::"call_tool" | "get_prompt" | "read_resource" | "list_tools" | "list_prompts" | "list_resources"`;
 * - resources `Tool::"<name>"` (`name`, the upstream's own annotation hints, `arg_*`),
 *   `Prompt::"<name>"` (`name`, `arg_*`), `Resource::"<uri>"` (`name` = `uri` = the URI), all children
 *   of `MCP::"<server name>"`; list requests use `MCP::"<server name>"` itself as resource;
 * - context: `claim_*` and `arg_*`.
 */
import { hash } from 'node:crypto';
import type { Identity } from '@bastion-mcp/proxy-core';
import type { CedarValueJson, EntityJson, TypeAndId } from './cedar.js';
import type { EvaluationRequest } from './engine.js';
import { prefixedAttributes } from './values.js';

export const ACTIONS = {
  callTool: 'call_tool',
  getPrompt: 'get_prompt',
  readResource: 'read_resource',
  listTools: 'list_tools',
  listPrompts: 'list_prompts',
  listResources: 'list_resources',
} as const;
export type ActionId = (typeof ACTIONS)[keyof typeof ACTIONS];

/** The annotation hints copied from the upstream's `tools/list` onto `Tool` entities (booleans only). */
export const ANNOTATION_HINTS = [
  'readOnlyHint',
  'destructiveHint',
  'idempotentHint',
  'openWorldHint',
] as const;
export type ToolAnnotations = Partial<Record<(typeof ANNOTATION_HINTS)[number], boolean>>;

export interface EntityModelOptions {
  /** Entity type of group parents. Default `Group`. */
  readonly groupEntityType: string;
  /** Entity type of role parents. Default `Role`. */
  readonly roleEntityType: string;
}

/**
 * The principal side of every request of one exchange, built once and reused for list items (and,
 * in the middleware, for every request of the same identity). {@link buildPrincipal} returns it
 * deeply frozen.
 */
export interface PrincipalPart {
  readonly uid: TypeAndId;
  readonly entity: EntityJson;
  /** `claim_*` (the context shared by every item). */
  readonly claims: Record<string, CedarValueJson>;
}

/** The principal's share of a decision-cache key, kept on the (frozen) part by {@link buildPrincipal}. */
const PRINCIPAL_KEY: unique symbol = Symbol('bastion.authz.principalKey');
type KeyedPrincipal = PrincipalPart & { readonly [PRINCIPAL_KEY]?: string };

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * The Cedar principal of `identity`: `Client::"<subject>"` with its claims and group/role parents.
 * The result is deeply frozen (every part of it is built here, nothing of `identity` is shared), so
 * what a decision-cache key derived from it stands for cannot change.
 */
export function buildPrincipal(identity: Identity, model: EntityModelOptions): PrincipalPart {
  const uid = { type: 'Client', id: identity.subject };
  const claims = prefixedAttributes('claim_', identity.claims);
  const parents: TypeAndId[] = [];
  const seen = new Set<string>();
  const add = (type: string, id: unknown) => {
    if (typeof id !== 'string' || id === '') return;
    const key = `${type}\u0000${id}`;
    if (seen.has(key)) return;
    seen.add(key);
    parents.push({ type, id });
  };
  for (const g of identity.groups ?? []) add(model.groupEntityType, g);
  for (const r of identity.roles ?? []) add(model.roleEntityType, r);
  const entity: EntityJson = { uid, attrs: claims, parents };
  // `uid` and `claims` are `entity`'s own, so the entity's JSON determines the whole part. Its SHA-256
  // (fixed length, so the key's boundary is unambiguous) keeps keys short: a Map lookup hashes the
  // whole key string, and a principal's JSON easily runs to hundreds of characters.
  const part: PrincipalPart = { uid, entity, claims };
  Object.defineProperty(part, PRINCIPAL_KEY, {
    value: `#${hash('sha256', JSON.stringify(entity), 'base64url')}`,
  });
  return deepFreeze(part);
}

/** Only the four boolean hints, from an untrusted-shaped annotations object. */
export function pickAnnotations(value: unknown): ToolAnnotations {
  const out: ToolAnnotations = {};
  if (typeof value !== 'object' || value === null) return out;
  for (const hint of ANNOTATION_HINTS) {
    const v = (value as Record<string, unknown>)[hint];
    if (typeof v === 'boolean') out[hint] = v;
  }
  return out;
}

export type Target =
  | { readonly kind: 'tool'; readonly name: string; readonly annotations?: ToolAnnotations | undefined }
  | { readonly kind: 'prompt'; readonly name: string }
  | { readonly kind: 'resource'; readonly uri: string }
  | { readonly kind: 'server' };

const ACTION_OF: Record<Target['kind'], ActionId> = {
  tool: ACTIONS.callTool,
  prompt: ACTIONS.getPrompt,
  resource: ACTIONS.readResource,
  server: ACTIONS.listTools,
};

/** The resource `target` of server `serverName` is evaluated as. */
export function resourceOf(serverName: string, target: Target): TypeAndId {
  switch (target.kind) {
    case 'tool':
      return { type: 'Tool', id: target.name };
    case 'prompt':
      return { type: 'Prompt', id: target.name };
    case 'resource':
      return { type: 'Resource', id: target.uri };
    default:
      return { type: 'MCP', id: serverName };
  }
}

/** The action of a request on `target` (`action` overrides). */
export function actionOf(target: Target, action?: ActionId): ActionId {
  return action ?? ACTION_OF[target.kind];
}

/**
 * A decision-cache key of the request {@link requestFrom} builds from the same arguments: equal keys
 * mean equal requests. The principal's share is the SHA-256 of its entity when it came from
 * {@link buildPrincipal} (frozen), else its JSON, computed on every call.
 */
export function requestKey(
  principal: PrincipalPart,
  serverName: string,
  target: Target,
  argAttrs: Readonly<Record<string, CedarValueJson>>,
  action?: ActionId,
): string {
  const who =
    (principal as KeyedPrincipal)[PRINCIPAL_KEY] ??
    JSON.stringify([principal.uid, principal.entity, principal.claims]);
  let what: unknown;
  switch (target.kind) {
    case 'tool':
      what = [target.name, target.annotations ?? null];
      break;
    case 'prompt':
      what = target.name;
      break;
    case 'resource':
      what = target.uri;
      break;
    default:
      what = null;
  }
  return who + JSON.stringify([actionOf(target, action), serverName, target.kind, what, argAttrs]);
}

/**
 * The Cedar request for `principal` acting on `target` of server `serverName`.
 * `args` are the call's arguments (`params.arguments`), mapped to `arg_<name>` in the context and,
 * like the reference, on the Tool/Prompt entity too (the standard attributes win on a clash).
 */
export function buildRequest(
  principal: PrincipalPart,
  serverName: string,
  target: Target,
  args?: Readonly<Record<string, unknown>> | undefined,
  action?: ActionId,
): EvaluationRequest {
  return requestFrom(principal, serverName, target, prefixedAttributes('arg_', args), action);
}

/** {@link buildRequest} with the arguments already mapped (`prefixedAttributes('arg_', args)`). */
export function requestFrom(
  principal: PrincipalPart,
  serverName: string,
  target: Target,
  argAttrs: Readonly<Record<string, CedarValueJson>>,
  action?: ActionId,
): EvaluationRequest {
  const parent = { type: 'MCP', id: serverName };
  let resource: TypeAndId;
  let attrs: Record<string, CedarValueJson>;
  switch (target.kind) {
    case 'tool':
      resource = { type: 'Tool', id: target.name };
      attrs = {
        ...argAttrs,
        ...(target.annotations ?? {}),
        name: target.name,
        operation: 'call',
        feature: 'tool',
      };
      break;
    case 'prompt':
      resource = { type: 'Prompt', id: target.name };
      attrs = { ...argAttrs, name: target.name, operation: 'get', feature: 'prompt' };
      break;
    case 'resource':
      resource = { type: 'Resource', id: target.uri };
      attrs = { name: target.uri, uri: target.uri, operation: 'read', feature: 'resource' };
      break;
    default:
      resource = parent;
      attrs = {};
  }
  const entities: EntityJson[] = [principal.entity];
  if (target.kind !== 'server') entities.push({ uid: resource, attrs, parents: [parent] });
  return {
    principal: principal.uid,
    action: { type: 'Action', id: actionOf(target, action) },
    resource,
    context: { ...principal.claims, ...argAttrs },
    entities,
  };
}
