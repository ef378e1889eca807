/**
 * `x-mcp-header` tool parameters (2026-07-28, SEP-2243): a tool's input schema may ask for an argument
 * to be mirrored into an `Mcp-Param-<Name>` request header. The stdio client cannot set HTTP headers,
 * so the bridge learns the annotations from the `tools/list` results it relays and adds the headers to
 * each `tools/call`. Tools whose annotations are invalid are removed from the list, as the revision
 * requires of clients (a server would reject every call of them).
 */
import { encodeMcpHeaderValue } from '@bastion-mcp/proxy-core';

/** RFC 9110 `token`: what a header field name may contain. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** JSON Schema types an `x-mcp-header` may annotate (not `number`: float text forms differ). */
const MIRRORABLE = new Set(['string', 'integer', 'boolean']);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** argument name → header name suffix, for one tool. */
type ToolHeaders = ReadonlyMap<string, string>;

/** Why a tool's annotations are invalid, or its mapping. */
export function toolParamHeaders(inputSchema: unknown): { headers: ToolHeaders } | { invalid: string } {
  const headers = new Map<string, string>();
  const props = isObject(inputSchema) && isObject(inputSchema.properties) ? inputSchema.properties : {};
  const seen = new Set<string>();
  for (const [arg, schema] of Object.entries(props)) {
    if (!isObject(schema) || !('x-mcp-header' in schema)) continue;
    const name = schema['x-mcp-header'];
    if (typeof name !== 'string' || !TOKEN.test(name)) {
      return { invalid: `x-mcp-header of "${arg}" is not a non-empty header-name token` };
    }
    if (typeof schema.type !== 'string' || !MIRRORABLE.has(schema.type)) {
      return { invalid: `x-mcp-header of "${arg}" is on a ${String(schema.type)} parameter` };
    }
    const key = name.toLowerCase();
    if (seen.has(key)) return { invalid: `x-mcp-header "${name}" is used twice` };
    seen.add(key);
    headers.set(arg, name);
  }
  return { headers };
}

export interface ParamHeaderRegistry {
  /**
   * Learn the annotations of a `tools/list` result; returns the result without the tools whose
   * annotations are invalid (the same object when none is).
   */
  learn(result: unknown, onInvalid?: (tool: string, why: string) => void): unknown;
  /** `Mcp-Param-*` headers of a `tools/call` of `tool` with `args` (null or absent arguments get none). */
  headersFor(tool: unknown, args: unknown): Record<string, string>;
  /** Whether any `tools/list` result was learned yet. */
  readonly learned: boolean;
}

export function createParamHeaderRegistry(): ParamHeaderRegistry {
  const byTool = new Map<string, ToolHeaders>();
  let learned = false;
  return {
    get learned() {
      return learned;
    },
    learn(result, onInvalid) {
      if (!isObject(result) || !Array.isArray(result.tools)) return result;
      learned = true;
      const kept: unknown[] = [];
      for (const tool of result.tools) {
        if (!isObject(tool) || typeof tool.name !== 'string') {
          kept.push(tool);
          continue;
        }
        const found = toolParamHeaders(tool.inputSchema);
        if ('invalid' in found) {
          byTool.delete(tool.name);
          onInvalid?.(tool.name, found.invalid);
          continue;
        }
        if (found.headers.size > 0) byTool.set(tool.name, found.headers);
        else byTool.delete(tool.name);
        kept.push(tool);
      }
      return kept.length === result.tools.length ? result : { ...result, tools: kept };
    },
    headersFor(tool, args) {
      const map = typeof tool === 'string' ? byTool.get(tool) : undefined;
      const out: Record<string, string> = {};
      if (!map || !isObject(args)) return out;
      for (const [arg, name] of map) {
        const value = args[arg];
        if (typeof value === 'string') out[`mcp-param-${name.toLowerCase()}`] = encodeMcpHeaderValue(value);
        else if (typeof value === 'number' || typeof value === 'boolean')
          out[`mcp-param-${name.toLowerCase()}`] = String(value);
      }
      return out;
    },
  };
}
