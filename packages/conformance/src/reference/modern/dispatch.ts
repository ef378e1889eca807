/**
 * Method dispatch of the 2026-07-28 reference upstream: `server/discover`, tools, prompts, resources,
 * completion and `subscriptions/listen`. Every result carries `resultType` and the server's identity in
 * `_meta`; list results and `resources/read` carry `ttlMs` + `cacheScope` (SEP-2549).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { SERVER_INFO } from '../content.js';
import {
  PROMPTS,
  PROMPTS_BY_NAME,
  RESOURCE_TEMPLATES,
  RESOURCES,
  readResource,
  TOOLS,
  TOOLS_BY_NAME,
} from './catalog.js';
import { InputExchange } from './mrtr.js';
import {
  isObject,
  type JsonObject,
  META_SERVER_INFO,
  META_SUBSCRIPTION_ID,
  type RequestContext,
  RpcCode,
  RpcFailure,
  SUPPORTED_MODERN_VERSIONS,
  validateParamHeaders,
} from './protocol.js';
import type { Reply } from './reply.js';
import type { StateCodec, StatePayload } from './request-state.js';

export const SERVER_CAPABILITIES = {
  tools: { listChanged: true },
  prompts: { listChanged: true },
  resources: { listChanged: true },
  completions: {},
  logging: {},
} as const;

export type ListKind = 'tools' | 'prompts' | 'resources';

interface Listener {
  reply: Reply;
  kinds: ReadonlySet<ListKind>;
}

export interface DispatchOptions {
  codec: StateCodec;
  /** ttlMs of cacheable results. */
  cacheTtlMs: number;
  /** Interval of `:` keep-alive comments on listen streams, ms. */
  keepAliveMs: number;
}

export interface Dispatcher {
  handle(
    method: string,
    params: JsonObject,
    ctx: RequestContext,
    headers: IncomingHttpHeaders,
    reply: Reply,
    signal: AbortSignal,
  ): Promise<void>;
  /** Open `subscriptions/listen` streams. */
  readonly listenerCount: number;
  /** End every listen stream gracefully. */
  closeListeners(): void;
}

const sleeper = (signal: AbortSignal) => (ms: number) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

function stringArgs(v: unknown): Record<string, string> {
  if (!isObject(v)) return {};
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
}

export function createDispatcher(options: DispatchOptions): Dispatcher {
  const { codec, cacheTtlMs } = options;
  const listeners = new Set<Listener>();
  const cache = { ttlMs: cacheTtlMs, cacheScope: 'public' } as const;

  const complete = (body: JsonObject): JsonObject => {
    const meta = isObject(body._meta) ? body._meta : {};
    return {
      resultType: 'complete',
      ...body,
      _meta: { ...meta, [META_SERVER_INFO]: { ...SERVER_INFO } },
    };
  };

  function notifyListChanged(kind: ListKind): void {
    for (const l of listeners) {
      if (!l.kinds.has(kind)) continue;
      l.reply.event({
        jsonrpc: '2.0',
        method: `notifications/${kind}/list_changed`,
        params: { _meta: { [META_SUBSCRIPTION_ID]: l.reply.id } },
      });
    }
  }

  /** Verified state of an MRTR retry; a state that fails verification is -32602. */
  function stateOf(params: JsonObject, method: string): StatePayload | undefined {
    if (!('requestState' in params)) return undefined;
    const raw = params.requestState;
    const state = typeof raw === 'string' ? codec.open(raw) : undefined;
    if (state === undefined || state.method !== method) {
      throw new RpcFailure(200, RpcCode.InvalidParams, 'requestState failed integrity verification');
    }
    if (params.name !== state.name) {
      throw new RpcFailure(200, RpcCode.InvalidParams, 'requestState belongs to another request');
    }
    return state;
  }

  async function callTool(
    params: JsonObject,
    ctx: RequestContext,
    headers: IncomingHttpHeaders,
    reply: Reply,
    signal: AbortSignal,
  ): Promise<JsonObject> {
    if (typeof params.name !== 'string')
      throw new RpcFailure(200, RpcCode.InvalidParams, 'params.name is required');
    const name = params.name;
    const state = stateOf(params, 'tools/call');
    const tool = TOOLS_BY_NAME.get(name);
    if (!tool) throw new RpcFailure(200, RpcCode.InvalidParams, `Unknown tool: ${name}`);
    if ('arguments' in params && !isObject(params.arguments)) {
      throw new RpcFailure(200, RpcCode.InvalidParams, 'arguments must be an object');
    }
    const args = (params.arguments as JsonObject | undefined) ?? {};
    validateParamHeaders(headers, tool.inputSchema, args);
    const input = new InputExchange(codec, 'tools/call', name, ctx.capabilities, params, state);
    return tool.run({
      args,
      ctx,
      input,
      notify: (method, p) => reply.event({ jsonrpc: '2.0', method, params: p }),
      listChanged: notifyListChanged,
      sleep: sleeper(signal),
    });
  }

  function getPrompt(params: JsonObject, ctx: RequestContext): JsonObject {
    const name = params.name;
    if (typeof name !== 'string') throw new RpcFailure(200, RpcCode.InvalidParams, 'params.name is required');
    const state = stateOf(params, 'prompts/get');
    const prompt = PROMPTS_BY_NAME.get(name);
    if (!prompt) throw new RpcFailure(200, RpcCode.InvalidParams, `Unknown prompt: ${name}`);
    const input = new InputExchange(codec, 'prompts/get', name, ctx.capabilities, params, state);
    const out = prompt.get(stringArgs(params.arguments), input, ctx);
    return out.resultType === 'input_required' ? out : { description: prompt.description, ...out };
  }

  function listen(params: JsonObject, reply: Reply, signal: AbortSignal): Promise<void> {
    const wanted = isObject(params.notifications) ? params.notifications : {};
    const kinds = new Set<ListKind>();
    const agreed: JsonObject = {};
    for (const [flag, kind] of [
      ['toolsListChanged', 'tools'],
      ['promptsListChanged', 'prompts'],
      ['resourcesListChanged', 'resources'],
    ] as const) {
      if (wanted[flag] === true) {
        kinds.add(kind);
        agreed[flag] = true;
      }
    }
    // No resources.subscribe capability: resourceSubscriptions are not part of the agreed subset.
    const listener: Listener = { reply, kinds };
    reply.event({
      jsonrpc: '2.0',
      method: 'notifications/subscriptions/acknowledged',
      params: { notifications: agreed, _meta: { [META_SUBSCRIPTION_ID]: reply.id } },
    });
    listeners.add(listener);
    return new Promise<void>((resolve) => {
      const keepAlive = setInterval(() => reply.comment('keep-alive'), options.keepAliveMs);
      keepAlive.unref();
      const stop = () => {
        clearInterval(keepAlive);
        listeners.delete(listener);
        resolve();
      };
      if (signal.aborted) stop();
      else signal.addEventListener('abort', stop, { once: true });
    });
  }

  return {
    get listenerCount() {
      return listeners.size;
    },
    closeListeners() {
      for (const l of [...listeners]) {
        listeners.delete(l);
        l.reply.result(complete({}));
      }
    },
    async handle(method, params, ctx, headers, reply, signal) {
      switch (method) {
        case 'server/discover':
          return reply.result(
            complete({
              supportedVersions: [...SUPPORTED_MODERN_VERSIONS],
              capabilities: SERVER_CAPABILITIES,
              instructions: 'Bastion conformance reference upstream (MCP 2026-07-28, stateless).',
              ...cache,
            }),
          );
        case 'tools/list':
          return reply.result(
            complete({
              tools: TOOLS.map((t) => ({
                name: t.name,
                description: t.description,
                inputSchema: t.inputSchema,
              })),
              ...cache,
            }),
          );
        case 'tools/call': {
          const out = await callTool(params, ctx, headers, reply, signal);
          return reply.result(out.resultType === 'input_required' ? out : complete(out));
        }
        case 'prompts/list':
          return reply.result(
            complete({
              prompts: PROMPTS.map((p) => ({
                name: p.name,
                description: p.description,
                ...(p.arguments ? { arguments: p.arguments } : {}),
              })),
              ...cache,
            }),
          );
        case 'prompts/get': {
          const out = getPrompt(params, ctx);
          return reply.result(out.resultType === 'input_required' ? out : complete(out));
        }
        case 'resources/list':
          return reply.result(complete({ resources: RESOURCES.map((r) => ({ ...r })), ...cache }));
        case 'resources/templates/list':
          return reply.result(
            complete({ resourceTemplates: RESOURCE_TEMPLATES.map((r) => ({ ...r })), ...cache }),
          );
        case 'resources/read': {
          if (typeof params.uri !== 'string')
            throw new RpcFailure(200, RpcCode.InvalidParams, 'params.uri is required');
          return reply.result(complete({ contents: readResource(params.uri), ...cache }));
        }
        case 'completion/complete':
          return reply.result(complete({ completion: { values: [], total: 0, hasMore: false } }));
        case 'subscriptions/listen':
          await listen(params, reply, signal);
          return;
        default:
          throw new RpcFailure(404, RpcCode.MethodNotFound, `Method not found: ${method}`);
      }
    },
  };
}
