/**
 * Filtering of list results item by item with the action that gates the item (`tools/list` by
 * `call_tool`, `prompts/list` by `get_prompt`, `resources/list` by `read_resource`). Every other field
 * of the result (`nextCursor`, `ttlMs`, `_meta` …) is kept. A filtered result depends on the caller,
 * so where the revision defines cache hints (2026-07-28) it is marked `cacheScope: "private"`.
 */
import type { JsonRpcMessage } from '@bastion-mcp/proxy-core';
import type { Decision, PolicyEngine } from './engine.js';
import { buildRequest, pickAnnotations, type PrincipalPart, type Target } from './entity-model.js';

export type ListItemKind = 'tools' | 'prompts' | 'resources';

function targetOf(kind: ListItemKind, item: unknown): Target | undefined {
  if (typeof item !== 'object' || item === null) return undefined;
  const it = item as Record<string, unknown>;
  if (kind === 'resources') return typeof it.uri === 'string' ? { kind: 'resource', uri: it.uri } : undefined;
  if (typeof it.name !== 'string') return undefined;
  if (kind === 'prompts') return { kind: 'prompt', name: it.name };
  return { kind: 'tool', name: it.name, annotations: pickAnnotations(it.annotations) };
}

export interface ListFilterResult {
  readonly message: JsonRpcMessage;
  readonly kept: number;
  readonly removed: number;
}

export interface ListFilterContext {
  readonly engine: PolicyEngine;
  readonly principal: PrincipalPart | undefined;
  readonly serverName: string;
  /** Set `cacheScope: "private"` on the result (2026-07-28 and later, or when the upstream sent one). */
  readonly markPrivate: boolean;
  /** Called with each evaluated item's decision (for logging evaluation errors). */
  readonly onDecision?: ((target: Target, decision: Decision) => void) | undefined;
}

/** Which list a result holds, judged by its shape (for messages whose request we did not see). */
export function listKindOfResult(result: Record<string, unknown>): ListItemKind | undefined {
  if (Array.isArray(result.tools)) return 'tools';
  if (Array.isArray(result.prompts)) return 'prompts';
  if (Array.isArray(result.resources)) return 'resources';
  return undefined;
}

/**
 * Filter the list in a JSON-RPC success message. Other messages are returned unchanged. Without a
 * principal every item is removed (fail closed). Items without a name/uri are removed.
 */
export function filterListMessage(
  message: JsonRpcMessage,
  kind: ListItemKind,
  ctx: ListFilterContext,
): ListFilterResult {
  if (!('result' in message) || typeof message.result !== 'object' || message.result === null) {
    return { message, kept: 0, removed: 0 };
  }
  const result = message.result;
  const items = result[kind];
  if (!Array.isArray(items)) return { message, kept: 0, removed: 0 };
  const kept: unknown[] = [];
  for (const item of items) {
    const target = targetOf(kind, item);
    if (!target || !ctx.principal) continue;
    const decision = ctx.engine.evaluate(buildRequest(ctx.principal, ctx.serverName, target));
    ctx.onDecision?.(target, decision);
    if (decision.decision === 'allow') kept.push(item);
  }
  const out: Record<string, unknown> = { ...result, [kind]: kept };
  if (ctx.markPrivate || 'cacheScope' in result) out.cacheScope = 'private';
  return { message: { ...message, result: out }, kept: kept.length, removed: items.length - kept.length };
}
