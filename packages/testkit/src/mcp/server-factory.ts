import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  type Implementation,
  ListToolsRequestSchema,
  type ListToolsResult,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';
import { registerDemoContent } from './content.js';
import type { LatchRegistry } from './latch.js';
import { describeTool, parseToolArgs, type ToolContext, type UpstreamTool } from './tool.js';

/** Everything needed to build one McpServer instance (one per session; one per request when stateless). */
export interface ServerFactoryOptions {
  serverInfo: Implementation;
  tools: readonly UpstreamTool[];
  pageSize: number | undefined;
  latches: LatchRegistry;
  demoContent: boolean;
  configure: ((server: McpServer) => void) | undefined;
}

function encodeCursor(offset: number): string {
  return Buffer.from(`offset:${offset}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string, total: number): number {
  const match = /^offset:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const offset = match?.[1] === undefined ? Number.NaN : Number(match[1]);
  if (!Number.isSafeInteger(offset) || offset <= 0 || offset >= total) {
    throw new McpError(ErrorCode.InvalidParams, 'Invalid cursor');
  }
  return offset;
}

/** Builds a fresh McpServer with the upstream's tools (own handlers: pagination, JSON-RPC errors), prompts and resources. */
export function createUpstreamServer(options: ServerFactoryOptions): McpServer {
  const server = new McpServer(options.serverInfo, {
    capabilities: { tools: { listChanged: true }, logging: {} },
  });
  const byName = new Map(options.tools.map((tool) => [tool.name, tool]));
  const listed = options.tools.map(describeTool);

  server.server.setRequestHandler(ListToolsRequestSchema, (request): ListToolsResult => {
    const pageSize = options.pageSize;
    if (pageSize === undefined) return { tools: listed };
    const cursor = request.params?.cursor;
    const start = cursor === undefined ? 0 : decodeCursor(cursor, listed.length);
    const end = start + pageSize;
    const page: ListToolsResult = { tools: listed.slice(start, end) };
    if (end < listed.length) page.nextCursor = encodeCursor(end);
    return page;
  });

  server.server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const tool = byName.get(request.params.name);
    if (tool === undefined)
      throw new McpError(ErrorCode.InvalidParams, `Tool ${request.params.name} not found`);
    const args = parseToolArgs(tool, request.params.arguments);
    if (!args.ok) return { content: [{ type: 'text', text: args.message }], isError: true };
    const progressToken = request.params._meta?.progressToken;
    const context: ToolContext = {
      extra,
      latch: (name) => options.latches.get(name),
      progress: async (progress, total, message) => {
        if (progressToken === undefined) return;
        await extra.sendNotification({
          method: 'notifications/progress',
          params: {
            progressToken,
            progress,
            ...(total === undefined ? {} : { total }),
            ...(message === undefined ? {} : { message }),
          },
        });
      },
    };
    try {
      return await tool.handler(args.value, context);
    } catch (error) {
      if (error instanceof McpError) throw error;
      return {
        content: [{ type: 'text', text: error instanceof Error ? error.message : String(error) }],
        isError: true,
      };
    }
  });

  if (options.demoContent) registerDemoContent(server);
  options.configure?.(server);
  return server;
}
