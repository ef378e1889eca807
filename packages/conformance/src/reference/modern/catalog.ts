/**
 * Tools, prompts and resources of the 2026-07-28 reference upstream: the set the conformance suite's
 * stateless server scenarios call (names, arguments and payloads are what its checks look at), with
 * MRTR (`input_required`) tools in place of the legacy server→client requests.
 */
import { TEST_AUDIO_BASE64, TEST_IMAGE_BASE64 } from '../content.js';
import {
  elicit,
  type InputExchange,
  type InputRequest,
  LIST_ROOTS,
  missingCapabilities,
  requireCapabilities,
  sample,
} from './mrtr.js';
import { isObject, type JsonObject, type RequestContext, RpcCode, RpcFailure } from './protocol.js';

export interface ToolCall {
  args: JsonObject;
  ctx: RequestContext;
  /** MRTR view of the request (answers, state, capabilities). */
  input: InputExchange;
  /** Send a notification on this request's response stream (switches it to SSE). */
  notify(method: string, params: JsonObject): void;
  /** Tell open `subscriptions/listen` streams that a list changed. */
  listChanged(kind: 'tools' | 'prompts'): void;
  sleep(ms: number): Promise<void>;
}

export interface ToolDef {
  name: string;
  description: string;
  inputSchema: JsonObject;
  run(call: ToolCall): Promise<JsonObject> | JsonObject;
}

const EMPTY_SCHEMA = { type: 'object', properties: {} };

/**
 * JSON Schema 2020-12 input schema with the SEP-1613 keywords (`$schema`, `$defs`,
 * `additionalProperties`) and the SEP-2106 vocabulary (`$anchor`, `allOf`/`anyOf`, `if`/`then`/`else`),
 * all of which must reach the client unchanged.
 */
export const JSON_SCHEMA_2020_12_FULL = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  $defs: {
    address: {
      $anchor: 'addressDef',
      type: 'object',
      properties: { street: { type: 'string' }, city: { type: 'string' } },
    },
  },
  properties: {
    name: { type: 'string' },
    address: { $ref: '#/$defs/address' },
    contactMethod: { type: 'string', enum: ['phone', 'email'] },
    phone: { type: 'string' },
    email: { type: 'string' },
  },
  allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
  if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
  // biome-ignore lint/suspicious/noThenProperty: the JSON Schema if/then/else keyword, not a thenable
  then: { required: ['phone'] },
  else: { required: ['email'] },
  additionalProperties: false,
};
const text = (t: string): JsonObject => ({ content: [{ type: 'text', text: t }] });
const answerText = (a: JsonObject | undefined, field: string): string => {
  const content = a?.content;
  if (isObject(content)) {
    const v = content[field] ?? content.text;
    if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return String(v);
  }
  return '';
};

const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

/** A tool that asks `requests` once and answers with `done(answers)` when all are given. */
function inputTool(
  name: string,
  description: string,
  requests: Record<string, InputRequest>,
  done: (answers: Record<string, JsonObject>, input: InputExchange) => JsonObject,
): ToolDef {
  return {
    name,
    description,
    inputSchema: EMPTY_SCHEMA,
    run({ input, ctx }) {
      requireCapabilities(
        ctx.capabilities,
        Object.values(requests).map((r) => r.method),
      );
      const answers = input.answers(requests);
      return answers === undefined ? input.inputRequired(requests) : done(answers, input);
    },
  };
}

const USER_NAME = { user_name: elicit('What is your name?', 'name', 'string') };
const CONFIRM = { confirm: elicit('Please confirm', 'ok', 'boolean') };

export const TOOLS: readonly ToolDef[] = [
  {
    name: 'test_simple_text',
    description: 'Tests simple text content response',
    inputSchema: EMPTY_SCHEMA,
    run: () => text('This is a simple text response for testing.'),
  },
  {
    name: 'test_image_content',
    description: 'Tests image content response',
    inputSchema: EMPTY_SCHEMA,
    run: () => ({ content: [{ type: 'image', data: TEST_IMAGE_BASE64, mimeType: 'image/png' }] }),
  },
  {
    name: 'test_audio_content',
    description: 'Tests audio content response',
    inputSchema: EMPTY_SCHEMA,
    run: () => ({ content: [{ type: 'audio', data: TEST_AUDIO_BASE64, mimeType: 'audio/wav' }] }),
  },
  {
    name: 'test_embedded_resource',
    description: 'Tests embedded resource content response',
    inputSchema: EMPTY_SCHEMA,
    run: () => ({
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
    }),
  },
  {
    name: 'test_multiple_content_types',
    description: 'Tests response with multiple content types (text, image, resource)',
    inputSchema: EMPTY_SCHEMA,
    run: () => ({
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
    }),
  },
  {
    name: 'test_tool_with_progress',
    description: 'Tests tool that reports progress notifications',
    inputSchema: EMPTY_SCHEMA,
    async run({ ctx, notify, sleep }) {
      for (const progress of [0, 50, 100]) {
        if (ctx.progressToken !== undefined) {
          notify('notifications/progress', {
            progressToken: ctx.progressToken,
            progress,
            total: 100,
            message: `Completed step ${progress} of 100`,
          });
        }
        if (progress < 100) await sleep(50);
      }
      return text(String(ctx.progressToken ?? 'no progress token'));
    },
  },
  {
    name: 'test_error_handling',
    description: 'Tests error response handling',
    inputSchema: EMPTY_SCHEMA,
    run: () => ({
      ...text('This tool intentionally returns an error for testing'),
      isError: true,
    }),
  },
  {
    name: 'test_logging_tool',
    description: 'Emits log notifications only when the request sets _meta logLevel',
    inputSchema: EMPTY_SCHEMA,
    async run({ ctx, notify, sleep }) {
      const floor = ctx.logLevel === undefined ? -1 : LOG_LEVELS.indexOf(ctx.logLevel);
      for (const step of ['started', 'processing data', 'completed']) {
        if (floor >= 0 && floor <= LOG_LEVELS.indexOf('info')) {
          notify('notifications/message', { level: 'info', logger: 'reference', data: `Tool ${step}` });
        }
        await sleep(10);
      }
      return text('Tool with logging executed successfully');
    },
  },
  {
    name: 'test_streaming_elicitation',
    description: 'Needs user input mid-call: answered with an input_required result, never a request',
    inputSchema: EMPTY_SCHEMA,
    run({ input, ctx }) {
      const requests = { response: elicit('Please provide a response', 'response', 'string') };
      requireCapabilities(ctx.capabilities, ['elicitation/create']);
      const answers = input.answers(requests);
      return answers === undefined
        ? input.inputRequired(requests)
        : text(`User response: ${answerText(answers.response, 'response')}`);
    },
  },
  {
    name: 'test_missing_capability',
    description: 'Requires the sampling client capability (-32021 without it)',
    inputSchema: EMPTY_SCHEMA,
    run({ ctx }) {
      requireCapabilities(ctx.capabilities, ['sampling/createMessage']);
      return text('sampling capability declared');
    },
  },
  {
    name: 'test_trigger_tool_change',
    description: 'Announces a tools list change on open subscriptions/listen streams',
    inputSchema: EMPTY_SCHEMA,
    run({ listChanged }) {
      listChanged('tools');
      return text('tools/list_changed sent');
    },
  },
  {
    name: 'test_trigger_prompt_change',
    description: 'Announces a prompts list change on open subscriptions/listen streams',
    inputSchema: EMPTY_SCHEMA,
    run({ listChanged }) {
      listChanged('prompts');
      return text('prompts/list_changed sent');
    },
  },
  {
    name: 'json_schema_2020_12_tool',
    description: 'Tool with JSON Schema 2020-12 features',
    inputSchema: JSON_SCHEMA_2020_12_FULL,
    run: ({ args }) => text(`ok: ${JSON.stringify(args)}`),
  },
  {
    name: 'test_custom_header',
    description: 'Mirrors its region argument in the Mcp-Param-Region header (SEP-2243)',
    inputSchema: {
      type: 'object',
      properties: { region: { type: 'string', description: 'Region', 'x-mcp-header': 'Region' } },
      required: ['region'],
    },
    run: ({ args }) => text(`region=${String(args.region)}`),
  },
  inputTool('test_input_required_result_elicitation', 'MRTR: one elicitation', USER_NAME, (a) =>
    text(`Hello, ${answerText(a.user_name, 'name')}!`),
  ),
  inputTool(
    'test_input_required_result_sampling',
    'MRTR: one sampling request',
    { capital_question: sample('What is the capital of France?', 100) },
    (a) => text(`LLM response: ${answerText(a.capital_question, 'text')}`),
  ),
  inputTool(
    'test_input_required_result_list_roots',
    'MRTR: one roots/list request',
    { client_roots: LIST_ROOTS },
    (a) => {
      const roots = (a.client_roots?.roots as { uri?: unknown }[]) ?? [];
      return text(`Roots: ${roots.map((r) => String(r.uri)).join(', ')}`);
    },
  ),
  {
    name: 'test_input_required_result_request_state',
    description: 'MRTR: completes only with the echoed, verified requestState',
    inputSchema: EMPTY_SCHEMA,
    run({ input, ctx }) {
      requireCapabilities(ctx.capabilities, ['elicitation/create']);
      const answers = input.state ? input.answers(CONFIRM) : undefined;
      return answers === undefined ? input.inputRequired(CONFIRM) : text('state-ok: requestState verified');
    },
  },
  {
    name: 'test_input_required_result_tampered_state',
    description: 'MRTR: rejects a requestState that fails integrity verification',
    inputSchema: EMPTY_SCHEMA,
    run({ input, ctx }) {
      requireCapabilities(ctx.capabilities, ['elicitation/create']);
      const answers = input.state ? input.answers(CONFIRM) : undefined;
      return answers === undefined ? input.inputRequired(CONFIRM) : text('state-ok: requestState verified');
    },
  },
  inputTool(
    'test_input_required_result_multiple_inputs',
    'MRTR: elicitation, sampling and roots/list at once',
    {
      user_name: elicit('What is your name?', 'name', 'string'),
      greeting: sample('Generate a greeting', 50),
      client_roots: LIST_ROOTS,
    },
    (a) => text(`${answerText(a.greeting, 'text')} ${answerText(a.user_name, 'name')}`.trim()),
  ),
  {
    name: 'test_input_required_result_multi_round',
    description: 'MRTR: two rounds of elicitation with evolving requestState',
    inputSchema: EMPTY_SCHEMA,
    run({ input, ctx }) {
      requireCapabilities(ctx.capabilities, ['elicitation/create']);
      const step2 = { step2: elicit('Step 2: What is your favorite color?', 'color', 'string') };
      if (input.round === 2) {
        const a = input.answers(step2);
        if (a === undefined) return input.inputRequired(step2, 2, input.carried);
        return text(`${String(input.carried.name ?? '')} likes ${answerText(a.step2, 'color')}`);
      }
      const step1 = { step1: elicit('Step 1: What is your name?', 'name', 'string') };
      const a = input.answers(step1);
      if (a === undefined) return input.inputRequired(step1);
      return input.inputRequired(step2, 2, { name: answerText(a.step1, 'name') });
    },
  },
  {
    name: 'test_input_required_result_capabilities',
    description: 'MRTR: asks only for input the client declared a capability for',
    inputSchema: EMPTY_SCHEMA,
    run({ input }) {
      const options: Record<string, InputRequest>[] = [
        USER_NAME,
        { capital_question: sample('What is the capital of France?', 100) },
        { client_roots: LIST_ROOTS },
      ];
      const requests = options.find((o) => Object.values(o).every((r) => input.supports(r.method)));
      // Needs any one of the three; without any, name elicitation.
      if (requests === undefined) throw missingCapabilities(['elicitation']);
      const answers = input.answers(requests);
      return answers === undefined ? input.inputRequired(requests) : text('Input received');
    },
  },
];

export const TOOLS_BY_NAME: ReadonlyMap<string, ToolDef> = new Map(TOOLS.map((t) => [t.name, t]));

// --- prompts ---

export interface PromptDef {
  name: string;
  description: string;
  arguments?: { name: string; description: string; required: boolean }[];
  get(args: Record<string, string>, input: InputExchange, ctx: RequestContext): JsonObject;
}

const userText = (t: string) => ({ role: 'user', content: { type: 'text', text: t } });

export const PROMPTS: readonly PromptDef[] = [
  {
    name: 'test_simple_prompt',
    description: 'A simple prompt without arguments',
    get: () => ({ messages: [userText('This is a simple prompt for testing.')] }),
  },
  {
    name: 'test_prompt_with_arguments',
    description: 'A prompt with required arguments',
    arguments: [
      { name: 'arg1', description: 'First test argument', required: true },
      { name: 'arg2', description: 'Second test argument', required: true },
    ],
    get: (a) => ({ messages: [userText(`Prompt with arguments: arg1='${a.arg1}', arg2='${a.arg2}'`)] }),
  },
  {
    name: 'test_prompt_with_embedded_resource',
    description: 'A prompt that includes an embedded resource',
    arguments: [{ name: 'resourceUri', description: 'URI of the resource to embed', required: true }],
    get: (a) => ({
      messages: [
        {
          role: 'user',
          content: {
            type: 'resource',
            resource: {
              uri: a.resourceUri ?? 'test://example-resource',
              mimeType: 'text/plain',
              text: 'Embedded resource content for testing.',
            },
          },
        },
        userText('Please process the embedded resource above.'),
      ],
    }),
  },
  {
    name: 'test_prompt_with_image',
    description: 'A prompt that includes image content',
    get: () => ({
      messages: [
        { role: 'user', content: { type: 'image', data: TEST_IMAGE_BASE64, mimeType: 'image/png' } },
        userText('Please analyze the image above.'),
      ],
    }),
  },
  {
    name: 'test_input_required_result_prompt',
    description: 'A prompt that needs context from the user first (MRTR on prompts/get)',
    get(_args, input, ctx) {
      const requests = { user_context: elicit('What context should the prompt use?', 'context', 'string') };
      requireCapabilities(ctx.capabilities, ['elicitation/create']);
      const a = input.answers(requests);
      if (a === undefined) return input.inputRequired(requests);
      return { messages: [userText(`Prompt with context: ${answerText(a.user_context, 'context')}`)] };
    },
  },
];

export const PROMPTS_BY_NAME: ReadonlyMap<string, PromptDef> = new Map(PROMPTS.map((p) => [p.name, p]));

// --- resources ---

export const RESOURCES = [
  {
    uri: 'test://static-text',
    name: 'static-text',
    title: 'Static Text Resource',
    description: 'A static text resource for testing',
    mimeType: 'text/plain',
  },
  {
    uri: 'test://static-binary',
    name: 'static-binary',
    title: 'Static Binary Resource',
    description: 'A static binary resource (image)',
    mimeType: 'image/png',
  },
] as const;

export const RESOURCE_TEMPLATES = [
  {
    uriTemplate: 'test://template/{id}/data',
    name: 'template',
    title: 'Resource Template',
    description: 'A template with parameter substitution',
    mimeType: 'application/json',
  },
] as const;

const TEMPLATE = /^test:\/\/template\/([^/]+)\/data$/;

/** `resources/read` contents; -32602 with `data.uri` for an unknown URI (SEP-2164). */
export function readResource(uri: string): JsonObject[] {
  if (uri === 'test://static-text') {
    return [{ uri, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }];
  }
  if (uri === 'test://static-binary') return [{ uri, mimeType: 'image/png', blob: TEST_IMAGE_BASE64 }];
  const m = TEMPLATE.exec(uri);
  if (m) {
    const id = decodeURIComponent(m[1] ?? '');
    return [
      {
        uri,
        mimeType: 'application/json',
        text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }),
      },
    ];
  }
  throw new RpcFailure(200, RpcCode.InvalidParams, 'Resource not found', { uri });
}
