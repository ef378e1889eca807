import {
  CreateMessageResultSchema,
  ElicitResultSchema,
  ErrorCode,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { z } from 'zod';
import { defineTool, textResult, type UpstreamTool } from './tool.js';

/** Message of the JSON-RPC error the `throw` tool answers with (code `-32603`). */
export const THROW_TOOL_MESSAGE = 'Tool failed on purpose';
/** Text of the `isError` result of the `fail` tool. */
export const FAIL_TOOL_MESSAGE = 'This tool always fails';

const echo = defineTool({
  name: 'echo',
  title: 'Echo',
  description: 'Returns the given text unchanged.',
  inputSchema: z.object({ text: z.string() }),
  annotations: { readOnlyHint: true, openWorldHint: false },
  handler: ({ text }) => textResult(text),
});

const add = defineTool({
  name: 'add',
  title: 'Add',
  description: 'Adds two integers.',
  inputSchema: z.object({ a: z.int(), b: z.int() }),
  annotations: { readOnlyHint: true, openWorldHint: false },
  handler: ({ a, b }) => ({
    content: [{ type: 'text', text: String(a + b) }],
    structuredContent: { sum: a + b },
  }),
  outputSchema: { type: 'object', properties: { sum: { type: 'integer' } }, required: ['sum'] },
});

const progress = defineTool({
  name: 'progress',
  title: 'Progress',
  description:
    'Sends notifications/progress for steps 1..steps (needs _meta.progressToken). With `latch`, waits ' +
    'on that test-controlled latch after each step but the last; with `perStep`, on `<latch>:<step>`.',
  inputSchema: z.object({
    steps: z.int().min(1).max(1000),
    latch: z.string().min(1).optional(),
    perStep: z.boolean().optional(),
  }),
  handler: async ({ steps, latch, perStep }, ctx) => {
    for (let step = 1; step <= steps; step++) {
      await ctx.progress(step, steps, `step ${step}/${steps}`);
      // Let the event leave in its own write: the SDK client dispatches notifications a microtask
      // late, so a progress event read in the same chunk as the final result would be dropped.
      await yieldToEventLoop();
      if (latch !== undefined && step < steps) {
        await ctx.latch(perStep === true ? `${latch}:${step}` : latch).wait(ctx.extra.signal);
      }
    }
    return textResult(`completed ${steps} steps`);
  },
});

const sample = defineTool({
  name: 'sample',
  title: 'Sample',
  description: "Asks the client's model (sampling/createMessage) and returns its text answer.",
  inputSchema: z.object({ prompt: z.string() }),
  handler: async ({ prompt }, ctx) => {
    const answer = await ctx.extra.sendRequest(
      {
        method: 'sampling/createMessage',
        params: { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 256 },
      },
      CreateMessageResultSchema,
    );
    const content = Array.isArray(answer.content) ? answer.content[0] : answer.content;
    const text = content?.type === 'text' ? content.text : JSON.stringify(content);
    return textResult(text);
  },
});

const elicit = defineTool({
  name: 'elicit',
  title: 'Elicit',
  description:
    'Asks the user (elicitation/create, form mode, one string field "answer") and returns the ' +
    'client\'s reply as JSON text {"action","content"}.',
  inputSchema: z.object({ message: z.string() }),
  handler: async ({ message }, ctx) => {
    const reply = await ctx.extra.sendRequest(
      {
        method: 'elicitation/create',
        params: {
          message,
          requestedSchema: {
            type: 'object',
            properties: { answer: { type: 'string', description: 'Your answer' } },
            required: ['answer'],
          },
        },
      },
      ElicitResultSchema,
    );
    return {
      content: [{ type: 'text', text: JSON.stringify({ action: reply.action, content: reply.content }) }],
      structuredContent: { action: reply.action, ...(reply.content ? { content: reply.content } : {}) },
    };
  },
});

const fail = defineTool({
  name: 'fail',
  title: 'Fail',
  description: 'Always returns a tool error result (isError: true).',
  inputSchema: z.object({}),
  handler: () => textResult(FAIL_TOOL_MESSAGE, true),
});

const throwTool = defineTool({
  name: 'throw',
  title: 'Throw',
  description: 'Always answers with a JSON-RPC error (-32603).',
  inputSchema: z.object({}),
  handler: () => {
    throw new McpError(ErrorCode.InternalError, THROW_TOOL_MESSAGE);
  },
});

const deleteRepo = defineTool({
  name: 'delete_repo',
  title: 'Delete repository',
  description: 'Pretends to delete a repository (destructive).',
  inputSchema: z.object({ name: z.string() }),
  annotations: { destructiveHint: true, readOnlyHint: false, idempotentHint: true },
  handler: ({ name }) => textResult(`deleted ${name}`),
});

const getWeather = defineTool({
  name: 'get_weather',
  title: 'Get weather',
  description: 'Returns a fixed forecast for a city (read-only).',
  inputSchema: z.object({ city: z.string() }),
  annotations: { readOnlyHint: true, openWorldHint: true },
  handler: ({ city }) => textResult(`Sunny in ${city}, 21°C`),
});

/** The default tools of the test upstream, in `tools/list` order. */
export function builtinTools(): UpstreamTool[] {
  return [echo, add, progress, sample, elicit, fail, throwTool, deleteRepo, getWeather] as UpstreamTool[];
}
