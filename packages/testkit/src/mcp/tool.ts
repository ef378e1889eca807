import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type {
  CallToolResult,
  ServerNotification,
  ServerRequest,
  Tool,
  ToolAnnotations,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Latch } from './latch.js';

/** A JSON Schema object as it appears in `tools/list` (`type: "object"`). */
export type JsonObjectSchema = { type: 'object'; [key: string]: unknown };

/** What a tool handler gets besides its arguments. */
export interface ToolContext {
  /** The SDK's request context: `signal`, `sessionId`, `requestId`, `requestInfo`, `sendRequest`, `sendNotification`, `_meta`. */
  readonly extra: RequestHandlerExtra<ServerRequest, ServerNotification>;
  /** The upstream's test-controlled latches (`up.latch(name)`). */
  latch(name: string): Latch;
  /**
   * Sends `notifications/progress` for the caller's `_meta.progressToken`, related to this request
   * (so on streamable HTTP it travels on this POST's SSE stream). A no-op when the caller sent no token.
   */
  progress(progress: number, total?: number, message?: string): Promise<void>;
}

/**
 * A tool served by the test upstream. `inputSchema` is either a zod object schema (arguments are
 * validated and parsed; a failure is an `isError` result, as the SDK's McpServer does) or a plain
 * JSON Schema object (listed verbatim, arguments passed through unvalidated).
 *
 * A handler that throws an `McpError` produces a JSON-RPC error response; any other thrown error
 * becomes an `isError` result carrying the error message.
 */
export interface UpstreamTool<Args = Record<string, unknown>> {
  name: string;
  title?: string;
  description?: string;
  inputSchema?: z.ZodType<Args> | JsonObjectSchema;
  outputSchema?: JsonObjectSchema;
  annotations?: ToolAnnotations;
  _meta?: Record<string, unknown>;
  handler(args: Args, context: ToolContext): CallToolResult | Promise<CallToolResult>;
}

/** Identity helper that infers the handler's argument type from a zod `inputSchema`. */
export function defineTool<Args>(tool: UpstreamTool<Args>): UpstreamTool<Args> {
  return tool;
}

function isZodSchema(schema: unknown): schema is z.ZodType {
  return (
    typeof schema === 'object' && schema !== null && typeof (schema as z.ZodType).safeParse === 'function'
  );
}

/** The `tools/list` entry of a tool. */
export function describeTool(tool: UpstreamTool): Tool {
  let inputSchema: JsonObjectSchema = { type: 'object', properties: {} };
  if (isZodSchema(tool.inputSchema)) {
    const { $schema: _ignored, ...schema } = z.toJSONSchema(tool.inputSchema, { io: 'input' }) as Record<
      string,
      unknown
    >;
    inputSchema = { ...schema, type: 'object' };
  } else if (tool.inputSchema !== undefined) {
    inputSchema = tool.inputSchema;
  }
  const entry: Tool = { name: tool.name, inputSchema };
  if (tool.title !== undefined) entry.title = tool.title;
  if (tool.description !== undefined) entry.description = tool.description;
  if (tool.outputSchema !== undefined) entry.outputSchema = tool.outputSchema as Tool['outputSchema'];
  if (tool.annotations !== undefined) entry.annotations = tool.annotations;
  if (tool._meta !== undefined) entry._meta = tool._meta;
  return entry;
}

/** Validates `args` against the tool's schema; returns the parsed value or an error text. */
export function parseToolArgs(
  tool: UpstreamTool,
  args: Record<string, unknown> | undefined,
): { ok: true; value: Record<string, unknown> } | { ok: false; message: string } {
  const input = args ?? {};
  if (!isZodSchema(tool.inputSchema)) return { ok: true, value: input };
  const parsed = tool.inputSchema.safeParse(input);
  if (parsed.success) return { ok: true, value: parsed.data as Record<string, unknown> };
  const detail = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  return {
    ok: false,
    message: `Input validation error: invalid arguments for tool ${tool.name}: ${detail.join('; ')}`,
  };
}

/** A one-item text result. */
export function textResult(text: string, isError = false): CallToolResult {
  return isError
    ? { content: [{ type: 'text', text }], isError: true }
    : { content: [{ type: 'text', text }] };
}
