/** The response side: filter and rename the tools of a `tools/list` result. */
import type { ToolRules } from './config.js';

export interface ListRewrite {
  /** The rewritten result (every field but `tools` kept as is, `nextCursor` included). */
  result: Record<string, unknown>;
  /** Upstream entries without a usable `name` (dropped: fail closed). */
  malformed: number;
  /** Real tools hidden because an override took their name. */
  shadowed: string[];
}

/** Rename one tool entry, or `undefined` when the client must not see it. */
function mapTool(
  rules: ToolRules,
  tool: unknown,
  shadowed: string[],
): Record<string, unknown> | undefined | null {
  if (typeof tool !== 'object' || tool === null || Array.isArray(tool)) return null;
  const t = tool as Record<string, unknown>;
  const real = t.name;
  if (typeof real !== 'string' || real.length === 0) return null;
  const o = rules.overrides.get(real);
  if (!o && rules.userToReal.has(real)) {
    // Another tool was renamed to this tool's name: the name now means that tool.
    shadowed.push(real);
    return undefined;
  }
  const userName = o?.name ?? real;
  if (rules.allow && !rules.allow.has(userName)) return undefined;
  if (!o) return t;
  const out: Record<string, unknown> = { ...t, name: userName };
  if (o.title !== undefined) out.title = o.title;
  if (o.description !== undefined) out.description = o.description;
  if (o.annotations !== undefined) {
    const base =
      typeof t.annotations === 'object' && t.annotations !== null
        ? (t.annotations as Record<string, unknown>)
        : {};
    out.annotations = { ...base, ...o.annotations };
  }
  return out;
}

/** Rewrite a `tools/list` result. A result without a `tools` array is returned unchanged. */
export function rewriteToolsList(rules: ToolRules, result: Record<string, unknown>): ListRewrite {
  const shadowed: string[] = [];
  if (!Array.isArray(result.tools)) return { result, malformed: 0, shadowed };
  let malformed = 0;
  const tools: Record<string, unknown>[] = [];
  for (const tool of result.tools) {
    const mapped = mapTool(rules, tool, shadowed);
    if (mapped === null) malformed++;
    else if (mapped !== undefined) tools.push(mapped);
  }
  return { result: { ...result, tools }, malformed, shadowed };
}
