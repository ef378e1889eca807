/**
 * The MCP server behind the reference upstream: one `McpServer` per session implementing the tools,
 * resources, prompts, logging and completion the conformance suite's server scenarios exercise.
 */
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  type CallToolResult,
  ElicitResultSchema,
  type ElicitResult,
  ListToolsRequestSchema,
  type ListToolsResult,
  type LoggingLevel,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { z } from 'zod';
import {
  JSON_SCHEMA_2020_12_INPUT_SCHEMA,
  SEP1034_SCHEMA,
  SEP1330_SCHEMA,
  SERVER_INFO,
  TEST_AUDIO_BASE64,
  TEST_IMAGE_BASE64,
  WATCHED_RESOURCE_TEXT,
} from './content.js';

/** What a session needs from its HTTP host (the test_reconnection tool closes the POST stream). */
export interface ReferenceSessionHooks {
  /** Close the SSE stream of the given JSON-RPC request (SEP-1699 polling). */
  closeRequestStream(requestId: string | number): void;
}

type ToolHandler = (
  args: Record<string, unknown>,
  extra: RequestHandlerExtra<ServerRequest, ServerNotification>,
) => Promise<CallToolResult>;

const EMPTY_OBJECT_SCHEMA = { type: 'object', properties: {} } as const;

const text = (t: string): CallToolResult => ({ content: [{ type: 'text', text: t }] });
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface ToolSpec {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

/** `tools/list` is answered from this table so every input schema is sent exactly as written. */
const TOOL_LIST: ToolSpec[] = [
  {
    name: 'test_simple_text',
    description: 'Tests simple text content response',
    inputSchema: EMPTY_OBJECT_SCHEMA,
  },
  {
    name: 'test_image_content',
    description: 'Tests image content response',
    inputSchema: EMPTY_OBJECT_SCHEMA,
  },
  {
    name: 'test_audio_content',
    description: 'Tests audio content response',
    inputSchema: EMPTY_OBJECT_SCHEMA,
  },
  {
    name: 'test_embedded_resource',
    description: 'Tests embedded resource content response',
    inputSchema: EMPTY_OBJECT_SCHEMA,
  },
  {
    name: 'test_multiple_content_types',
    description: 'Tests response with multiple content types (text, image, resource)',
    inputSchema: EMPTY_OBJECT_SCHEMA,
  },
  {
    name: 'test_tool_with_logging',
    description: 'Tests tool that emits log messages during execution',
    inputSchema: EMPTY_OBJECT_SCHEMA,
  },
  {
    name: 'test_tool_with_progress',
    description: 'Tests tool that reports progress notifications',
    inputSchema: EMPTY_OBJECT_SCHEMA,
  },
  {
    name: 'test_error_handling',
    description: 'Tests error response handling',
    inputSchema: EMPTY_OBJECT_SCHEMA,
  },
  {
    name: 'test_reconnection',
    description:
      'Closes the SSE stream mid-call; the result is delivered after the client reconnects (SEP-1699)',
    inputSchema: EMPTY_OBJECT_SCHEMA,
  },
  {
    name: 'test_sampling',
    description: 'Tests server-initiated sampling (LLM completion request)',
    inputSchema: {
      type: 'object',
      properties: { prompt: { type: 'string', description: 'The prompt to send to the LLM' } },
      required: ['prompt'],
    },
  },
  {
    name: 'test_elicitation',
    description: 'Tests server-initiated elicitation (user input request)',
    inputSchema: {
      type: 'object',
      properties: { message: { type: 'string', description: 'The message to show the user' } },
      required: ['message'],
    },
  },
  {
    name: 'test_elicitation_sep1034_defaults',
    description: 'Tests elicitation with default values per SEP-1034',
    inputSchema: EMPTY_OBJECT_SCHEMA,
  },
  {
    name: 'test_elicitation_sep1330_enums',
    description: 'Tests elicitation with enum schema improvements per SEP-1330',
    inputSchema: EMPTY_OBJECT_SCHEMA,
  },
  {
    name: 'json_schema_2020_12_tool',
    description: 'Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)',
    inputSchema: JSON_SCHEMA_2020_12_INPUT_SCHEMA,
  },
];

/** A new MCP server for one session. */
export function createReferenceServer(hooks: ReferenceSessionHooks): McpServer {
  const mcp = new McpServer(SERVER_INFO, {
    capabilities: {
      tools: { listChanged: true },
      resources: { subscribe: true, listChanged: true },
      prompts: { listChanged: true },
      logging: {},
      completions: {},
    },
  });
  const server = mcp.server;

  const log = (level: LoggingLevel, data: string) =>
    server
      .notification({ method: 'notifications/message', params: { level, logger: 'reference', data } })
      .catch(() => {});

  const elicit = async (message: string, requestedSchema: Record<string, unknown>, label: string) => {
    try {
      const r: ElicitResult = await server.request(
        { method: 'elicitation/create', params: { mode: 'form', message, requestedSchema } as never },
        ElicitResultSchema,
      );
      return text(`${label}: action=${r.action}, content=${JSON.stringify(r.content ?? {})}`);
    } catch (err) {
      return text(`Elicitation not supported or error: ${(err as Error).message}`);
    }
  };

  // --- tools (registered for dispatch; listed from TOOL_LIST) ---
  const tool = (name: string, handler: ToolHandler) =>
    mcp.registerTool(name, { inputSchema: z.object({}).passthrough() }, handler as never);

  tool('test_simple_text', async () => text('This is a simple text response for testing.'));
  tool('test_image_content', async () => ({
    content: [{ type: 'image', data: TEST_IMAGE_BASE64, mimeType: 'image/png' }],
  }));
  tool('test_audio_content', async () => ({
    content: [{ type: 'audio', data: TEST_AUDIO_BASE64, mimeType: 'audio/wav' }],
  }));
  tool('test_embedded_resource', async () => ({
    content: [
      {
        type: 'resource',
        resource: {
          uri: 'test://embedded-resource',
          mimeType: 'text/plain',
          text: 'This is an embedded resource content.',
        },
      },
    ],
  }));
  tool('test_multiple_content_types', async () => ({
    content: [
      { type: 'text', text: 'Multiple content types test:' },
      { type: 'image', data: TEST_IMAGE_BASE64, mimeType: 'image/png' },
      {
        type: 'resource',
        resource: {
          uri: 'test://mixed-content-resource',
          mimeType: 'application/json',
          text: JSON.stringify({ test: 'data', value: 123 }),
        },
      },
    ],
  }));
  tool('test_tool_with_logging', async (_args, extra) => {
    for (const [i, data] of [
      'Tool execution started',
      'Tool processing data',
      'Tool execution completed',
    ].entries()) {
      if (i > 0) await sleep(50);
      await extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data } });
    }
    return text('Tool with logging executed successfully');
  });
  tool('test_tool_with_progress', async (_args, extra) => {
    const progressToken = extra._meta?.progressToken ?? 0;
    for (const progress of [0, 50, 100]) {
      if (progress > 0) await sleep(50);
      await extra.sendNotification({
        method: 'notifications/progress',
        params: { progressToken, progress, total: 100, message: `Completed step ${progress} of 100` },
      });
    }
    return text(String(progressToken));
  });
  tool('test_error_handling', async () => {
    throw new Error('This tool intentionally returns an error for testing');
  });
  tool('test_reconnection', async (_args, extra) => {
    hooks.closeRequestStream(extra.requestId);
    await sleep(100);
    return text(
      'Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure.',
    );
  });
  tool('test_sampling', async (args) => {
    try {
      const result = (await server.createMessage({
        messages: [{ role: 'user', content: { type: 'text', text: String(args.prompt ?? '') } }],
        maxTokens: 100,
      })) as { content?: { text?: string } };
      return text(`LLM response: ${result.content?.text ?? 'No response'}`);
    } catch (err) {
      return text(`Sampling not supported or error: ${(err as Error).message}`);
    }
  });
  tool('test_elicitation', async (args) =>
    elicit(
      String(args.message ?? ''),
      {
        type: 'object',
        properties: { response: { type: 'string', description: "User's response" } },
        required: ['response'],
      },
      'User response',
    ),
  );
  tool('test_elicitation_sep1034_defaults', async () =>
    elicit('Please review and update the form fields with defaults', SEP1034_SCHEMA, 'Elicitation completed'),
  );
  tool('test_elicitation_sep1330_enums', async () =>
    elicit('Please select options from the enum fields', SEP1330_SCHEMA, 'Elicitation completed'),
  );
  tool('json_schema_2020_12_tool', async (args) =>
    text(`JSON Schema 2020-12 tool called with: ${JSON.stringify(args)}`),
  );
  server.setRequestHandler(
    ListToolsRequestSchema,
    (): ListToolsResult => ({ tools: TOOL_LIST.map((t) => ({ ...t })) as ListToolsResult['tools'] }),
  );

  // --- resources ---
  const staticText = (uri: string, mimeType: string, body: string) => async () => ({
    contents: [{ uri, mimeType, text: body }],
  });
  mcp.registerResource(
    'static-text',
    'test://static-text',
    {
      title: 'Static Text Resource',
      description: 'A static text resource for testing',
      mimeType: 'text/plain',
    },
    staticText('test://static-text', 'text/plain', 'This is the content of the static text resource.'),
  );
  mcp.registerResource(
    'static-binary',
    'test://static-binary',
    {
      title: 'Static Binary Resource',
      description: 'A static binary resource (image)',
      mimeType: 'image/png',
    },
    async () => ({
      contents: [{ uri: 'test://static-binary', mimeType: 'image/png', blob: TEST_IMAGE_BASE64 }],
    }),
  );
  mcp.registerResource(
    'template',
    new ResourceTemplate('test://template/{id}/data', { list: undefined }),
    {
      title: 'Resource Template',
      description: 'A template with parameter substitution',
      mimeType: 'application/json',
    },
    async (uri, variables) => ({
      contents: [
        {
          uri: uri.toString(),
          mimeType: 'application/json',
          text: JSON.stringify({
            id: variables.id,
            templateTest: true,
            data: `Data for ID: ${variables.id}`,
          }),
        },
      ],
    }),
  );
  mcp.registerResource(
    'watched-resource',
    'test://watched-resource',
    { title: 'Watched Resource', description: 'A resource clients may subscribe to', mimeType: 'text/plain' },
    staticText('test://watched-resource', 'text/plain', WATCHED_RESOURCE_TEXT),
  );
  const uriParams = z.object({ params: z.object({ uri: z.string() }).passthrough() }).passthrough();
  server.setRequestHandler(uriParams.extend({ method: z.literal('resources/subscribe') }), async (req) => {
    void log('info', `Subscribed to resource: ${req.params.uri}`);
    return {};
  });
  server.setRequestHandler(uriParams.extend({ method: z.literal('resources/unsubscribe') }), async (req) => {
    void log('info', `Unsubscribed from resource: ${req.params.uri}`);
    return {};
  });

  // --- prompts ---
  mcp.registerPrompt(
    'test_simple_prompt',
    { title: 'Simple Test Prompt', description: 'A simple prompt without arguments' },
    async () => ({
      messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }],
    }),
  );
  mcp.registerPrompt(
    'test_prompt_with_arguments',
    {
      title: 'Prompt With Arguments',
      description: 'A prompt with required arguments',
      argsSchema: {
        arg1: z.string().describe('First test argument'),
        arg2: z.string().describe('Second test argument'),
      },
    },
    async ({ arg1, arg2 }) => ({
      messages: [
        {
          role: 'user',
          content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` },
        },
      ],
    }),
  );
  mcp.registerPrompt(
    'test_prompt_with_embedded_resource',
    {
      title: 'Prompt With Embedded Resource',
      description: 'A prompt that includes an embedded resource',
      argsSchema: { resourceUri: z.string().describe('URI of the resource to embed') },
    },
    async ({ resourceUri }) => ({
      messages: [
        {
          role: 'user',
          content: {
            type: 'resource',
            resource: {
              uri: resourceUri,
              mimeType: 'text/plain',
              text: 'Embedded resource content for testing.',
            },
          },
        },
        { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
      ],
    }),
  );
  mcp.registerPrompt(
    'test_prompt_with_image',
    { title: 'Prompt With Image', description: 'A prompt that includes image content' },
    async () => ({
      messages: [
        { role: 'user', content: { type: 'image', data: TEST_IMAGE_BASE64, mimeType: 'image/png' } },
        { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
      ],
    }),
  );

  // --- logging and completion ---
  server.setRequestHandler(
    z
      .object({
        method: z.literal('logging/setLevel'),
        params: z.object({ level: z.string() }).passthrough(),
      })
      .passthrough(),
    async (req) => {
      void log('info', `Log level set to: ${req.params.level}`);
      return {};
    },
  );
  server.setRequestHandler(
    z.object({ method: z.literal('completion/complete') }).passthrough(),
    async () => ({
      completion: { values: [], total: 0, hasMore: false },
    }),
  );

  return mcp;
}
