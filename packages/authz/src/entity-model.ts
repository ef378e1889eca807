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

/** The principal side of every request of one exchange, built once and reused for list items. */
export interface PrincipalPart {
  readonly uid: TypeAndId;
  readonly entity: EntityJson;
  /** `claim_*` (the context shared by every item). */
  readonly claims: Record<string, CedarValueJson>;
}

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
  return { uid, entity: { uid, attrs: claims, parents }, claims };
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
  const parent = { type: 'MCP', id: serverName };
  const argAttrs = prefixedAttributes('arg_', args);
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
    action: { type: 'Action', id: action ?? ACTION_OF[target.kind] },
    resource,
    context: { ...principal.claims, ...argAttrs },
    entities,
  };
}
