/**
 * Per-request telemetry state: the SERVER span, the MCP facts, what the answer turned out to be, and
 * the one place where a finished request is turned into span attributes and metric samples.
 *
 * A request is "begun" by whichever telemetry layer sees it first (`telemetry-edge` when installed,
 * else `telemetry`) and finished by that same layer, exactly once.
 */
import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { Exchange, JsonRpcMessage } from '@bastion-mcp/proxy-core';
import {
  classify,
  headerValue,
  type RequestFacts,
  requestFacts,
  rpcCodeOfError,
  spanNameOf,
} from '../classify.js';
import type { KnownTools } from '../known-tools.js';
import type { ResolvedOptions } from '../options.js';
import { redactArguments, redactValue } from '../redact.js';
import type { Instruments } from './instruments.js';
import { extractParent } from './propagation.js';

export interface RequestState {
  readonly exchange: Exchange;
  readonly owner: 'edge' | 'inner';
  readonly span: Span | undefined;
  /** Parent context with the SERVER span set (or the extracted remote parent when tracing is off). */
  readonly ctx: Context;
  facts: RequestFacts;
  rpcErrorCode: number | undefined;
  rpcErrorMessage: string | undefined;
  toolError: boolean;
  finished: boolean;
}

export interface TrackerDeps {
  readonly tracer: Tracer | undefined;
  readonly instruments: Instruments | undefined;
  readonly knownTools: KnownTools;
  readonly options: ResolvedOptions;
}

function hostPort(host: string | undefined): { address?: string; port?: number } {
  if (host === undefined) return {};
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(host);
  if (!m) return {};
  return { address: m[1]!.slice(0, 256), ...(m[2] === undefined ? {} : { port: Number(m[2]) }) };
}

/** An exchange carrying the telemetry state of its request under a tracker's private symbol. */
type WithState = Exchange & { [slot: symbol]: RequestState | undefined };

export class RequestTracker {
  /**
   * The state lives on the exchange itself, under a symbol private to this tracker (invisible to
   * `JSON.stringify`, `Object.keys` and spreads of `notes`). Not a `WeakMap<Exchange, RequestState>`:
   * V8's scavenger keeps WeakMap entries whose value refers to the key alive, so every request's
   * exchange, body and state was promoted to the old generation — larger, longer young-GC pauses
   * and regular full GCs under load, i.e. tail latency.
   */
  readonly #slot: symbol = Symbol('bastion.telemetry.request');
  /** Unfinished requests by request id, so derived side exchanges (`<id>.side`) find their parent. */
  readonly #active = new Map<string, RequestState>();
  readonly #deps: TrackerDeps;

  constructor(deps: TrackerDeps) {
    this.#deps = deps;
  }

  serverOf(exchange: Exchange): string {
    return this.#deps.options.serverName ?? exchange.serverName;
  }

  /** The state of `exchange`, or of the request it was derived from. */
  get(exchange: Exchange): RequestState | undefined {
    const own = (exchange as WithState)[this.#slot];
    if (own !== undefined) return own;
    if (exchange.notes.side === true && exchange.requestId.endsWith('.side')) {
      return this.#active.get(exchange.requestId.slice(0, -'.side'.length));
    }
    return undefined;
  }

  begin(exchange: Exchange, owner: 'edge' | 'inner'): RequestState {
    const facts = requestFacts(exchange.rpc);
    const tracer = this.#deps.tracer;
    let span: Span | undefined;
    let ctx: Context = ROOT_CONTEXT;
    if (tracer !== undefined) {
      const parent = extractParent(exchange.request.headers, facts.meta);
      span = tracer.startSpan(
        spanNameOf(facts, exchange.request.method, exchange.request.path),
        { kind: SpanKind.SERVER, startTime: exchange.startedAt },
        parent,
      );
      ctx = trace.setSpan(parent, span);
      if (span.isRecording()) span.setAttributes(this.#baseAttributes(exchange, facts));
    }
    const state: RequestState = {
      exchange,
      owner,
      span,
      ctx,
      facts,
      rpcErrorCode: undefined,
      rpcErrorMessage: undefined,
      toolError: false,
      finished: false,
    };
    (exchange as WithState)[this.#slot] = state;
    this.#active.set(exchange.requestId, state);
    return state;
  }

  #baseAttributes(exchange: Exchange, facts: RequestFacts): Attributes {
    const req = exchange.request;
    const { address, port } = hostPort(headerValue(req.headers.host));
    const attrs: Attributes = {
      'http.request.method': req.method,
      'url.path': req.path,
      'url.scheme': req.protocol,
      'network.transport': 'tcp',
      'network.protocol.name': 'http',
      'client.address': req.remoteAddress,
      'bastion.request.id': exchange.requestId,
      'bastion.server.name': this.serverOf(exchange),
    };
    if (address !== undefined) attrs['server.address'] = address;
    if (port !== undefined) attrs['server.port'] = port;
    const ua = headerValue(req.headers['user-agent']);
    if (ua !== undefined) attrs['user_agent.original'] = ua;
    const session = headerValue(req.headers['mcp-session-id']);
    if (session !== undefined) attrs['mcp.session.id'] = session;
    const protocol = headerValue(req.headers['mcp-protocol-version']) ?? facts.initializeProtocolVersion;
    if (protocol !== undefined) attrs['mcp.protocol.version'] = protocol;
    Object.assign(attrs, this.#mcpAttributes(facts));
    return attrs;
  }

  #mcpAttributes(facts: RequestFacts): Attributes {
    const attrs: Attributes = {};
    if (facts.method === undefined) return attrs;
    attrs['mcp.method.name'] = facts.method;
    if (facts.requestId !== undefined) attrs['jsonrpc.request.id'] = facts.requestId;
    if (facts.tool !== undefined) {
      attrs['gen_ai.tool.name'] = facts.tool;
      attrs['gen_ai.operation.name'] = 'execute_tool';
    }
    if (facts.prompt !== undefined) attrs['gen_ai.prompt.name'] = facts.prompt;
    if (facts.resourceUri !== undefined) attrs['mcp.resource.uri'] = facts.resourceUri.slice(0, 1024);
    return attrs;
  }

  /**
   * Refresh the facts once the request reached `telemetry` (chain position 6): tool-filter may have
   * renamed the tool to its real upstream name; identity and arguments are recorded when enabled.
   */
  annotate(state: RequestState): void {
    const exchange = state.exchange;
    const facts = exchange.rpc === undefined ? state.facts : requestFacts(exchange.rpc);
    const renamed = facts.tool !== state.facts.tool;
    state.facts = facts;
    const span = state.span;
    if (span === undefined || !span.isRecording()) return;
    if (renamed) {
      span.updateName(spanNameOf(facts, exchange.request.method, exchange.request.path));
      span.setAttributes(this.#mcpAttributes(facts));
    }
    const clientTool = exchange.notes.clientToolName;
    if (typeof clientTool === 'string' && clientTool !== facts.tool) {
      span.setAttribute('bastion.client_tool.name', clientTool.slice(0, 128));
    }
    const opts = this.#deps.options;
    if (opts.recordUserId && exchange.identity !== undefined)
      span.setAttribute('user.id', exchange.identity.subject);
    if (opts.recordArguments && facts.tool !== undefined && facts.arguments !== undefined) {
      span.setAttribute(
        'gen_ai.tool.call.arguments',
        redactArguments(facts.arguments, { keys: opts.redactKeys, secrets: [exchange.inboundToken] }),
      );
    }
  }

  /** Look at one JSON-RPC message of the answer: the response to this request, or a tools/list result. */
  observeMessage(state: RequestState, message: JsonRpcMessage): void {
    if ('method' in message) return;
    const id = (message as { id?: unknown }).id;
    if (id === undefined || id === null || String(id) !== state.facts.requestId) return;
    if ('error' in message && typeof message.error === 'object' && message.error !== null) {
      state.rpcErrorCode = typeof message.error.code === 'number' ? message.error.code : undefined;
      state.rpcErrorMessage = typeof message.error.message === 'string' ? message.error.message : undefined;
      return;
    }
    if (!('result' in message)) return;
    if (state.facts.method === 'tools/list') this.#deps.knownTools.observeList(message.result);
    if (state.facts.method === 'tools/call' && (message.result as { isError?: unknown })?.isError === true) {
      state.toolError = true;
    }
  }

  /** Turn a finished request into span attributes, span status and metric samples. Idempotent. */
  finish(state: RequestState, status: number, error?: unknown, streamError?: unknown): void {
    if (state.finished) return;
    state.finished = true;
    const exchange = state.exchange;
    if (this.#active.get(exchange.requestId) === state) this.#active.delete(exchange.requestId);
    const thrownRpcCode = error === undefined ? undefined : rpcCodeOfError(error);
    const rpcErrorCode = state.rpcErrorCode ?? thrownRpcCode;
    const { outcome, errorType } = classify({ status, rpcErrorCode, toolError: state.toolError });
    const facts = state.facts;
    const span = state.span;
    if (span !== undefined) {
      if (span.isRecording()) {
        const attrs: Attributes = { 'http.response.status_code': status };
        if (errorType !== undefined) attrs['error.type'] = errorType;
        if (rpcErrorCode !== undefined) attrs['rpc.response.status_code'] = String(rpcErrorCode);
        const rejectedBy = exchange.notes.rejectedBy;
        if (typeof rejectedBy === 'string') attrs['bastion.rejected_by'] = rejectedBy;
        const decision = exchange.notes.authz?.decision;
        if (decision !== undefined) attrs['bastion.authz.decision'] = decision;
        span.setAttributes(attrs);
        if (streamError !== undefined) span.addEvent('response_stream_error');
        if (errorType !== undefined) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: this.#statusMessage(state, error) });
        }
      }
      span.end();
    }
    const instruments = this.#deps.instruments;
    if (instruments === undefined) return;
    const seconds = Math.max(0, performance.now() - exchange.startedAt) / 1000;
    const method = facts.method;
    const tool = facts.tool === undefined ? undefined : this.#deps.knownTools.label(facts.tool);
    instruments.request(
      this.serverOf(exchange),
      method ?? (exchange.request.method === 'POST' ? 'unknown' : exchange.request.method),
      tool,
      outcome,
      status,
      seconds,
    );
    if (method !== undefined) {
      instruments.operation(
        method,
        tool,
        errorType,
        rpcErrorCode,
        headerValue(exchange.request.headers['mcp-protocol-version']) ?? facts.initializeProtocolVersion,
        seconds,
      );
    }
  }

  #statusMessage(state: RequestState, error: unknown): string | undefined {
    const pub = (error as { publicMessage?: unknown } | undefined)?.publicMessage;
    const raw = typeof pub === 'string' ? pub : state.rpcErrorMessage;
    if (raw === undefined) return undefined;
    return redactValue(raw, { secrets: [state.exchange.inboundToken], maxStringLength: 256 }) as string;
  }
}
