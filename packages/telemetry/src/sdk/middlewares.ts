/** The two chain layers: `telemetry-edge` (optional, outermost) and `telemetry` (chain position 6). */
import { context } from '@opentelemetry/api';
import {
  type Exchange,
  idOf,
  isRequest,
  type JsonRpcMessage,
  type Middleware,
  type Next,
  observeAnswer,
  type ProxyResponse,
  type Route,
} from '@bastion-mcp/proxy-core';
import { statusOfError } from '../classify.js';
import { onBodyDone } from './body-done.js';
import { injectInto } from './propagation.js';
import type { RequestState, RequestTracker } from './requests.js';

function finishWith(tracker: RequestTracker, state: RequestState, res: ProxyResponse): ProxyResponse {
  return onBodyDone(res, (streamError) => tracker.finish(state, res.status, undefined, streamError));
}

async function run(
  tracker: RequestTracker,
  state: RequestState,
  owner: boolean,
  next: Next,
): Promise<ProxyResponse> {
  try {
    return await context.with(state.ctx, next);
  } catch (err) {
    if (owner) tracker.finish(state, statusOfError(err), err);
    throw err;
  }
}

export function createEdgeMiddleware(tracker: RequestTracker): Middleware {
  return {
    name: 'telemetry-edge',
    async handle(exchange: Exchange, next: Next): Promise<ProxyResponse> {
      const state = tracker.get(exchange) ?? tracker.begin(exchange, 'edge');
      const res = await run(tracker, state, true, () => next());
      return finishWith(tracker, state, res);
    },
  };
}

export interface InnerOptions {
  readonly inspectResponses: boolean;
  readonly traces: boolean;
  readonly routes: readonly Route[] | undefined;
  readonly flush: () => Promise<void>;
}

/**
 * Largest answer read for its outcome (JSON body, or one SSE event), bytes. Errors and `isError` results
 * are small; an answer past this is counted by its HTTP status. Shared with audit's tap (which reads up
 * to 256 KiB), so the body is still parsed once.
 */
const MAX_INSPECT_BYTES = 4 * 1024 * 1024;

export function createInnerMiddleware(tracker: RequestTracker, options: InnerOptions): Middleware {
  /**
   * Look at the answer (never changing it) when something needs it. Observed in place: a raw body stays
   * raw, so the edge pipes the upstream's bytes as the passthrough proxy does instead of parsing and
   * re-serialising them (and the upstream's content-length survives).
   */
  function inspect(state: RequestState, res: ProxyResponse): ProxyResponse {
    const facts = state.facts;
    const rpc = state.exchange.rpc;
    if (facts.requestId === undefined || !isRequest(rpc) || res.status < 200 || res.status >= 300) return res;
    if (!options.inspectResponses && facts.method !== 'tools/list') return res;
    return observeAnswer(
      res,
      {
        rpcId: idOf(rpc),
        expectsAnswer: true,
        maxInspectBytes: MAX_INSPECT_BYTES,
        signal: state.exchange.signal,
      },
      (seen) => {
        if (seen.answer !== undefined)
          tracker.observeMessage(state, seen.answer as unknown as JsonRpcMessage);
      },
    );
  }

  return {
    name: 'telemetry',
    ...(options.routes === undefined ? {} : { routes: options.routes }),
    async handle(exchange: Exchange, next: Next): Promise<ProxyResponse> {
      let state = tracker.get(exchange);
      const owner = state === undefined;
      if (state === undefined) state = tracker.begin(exchange, 'inner');
      tracker.annotate(state);
      if (options.traces) injectInto(state.ctx, exchange.upstreamHeaders);
      let res = await run(tracker, state, owner, () => next());
      res = inspect(state, res);
      return owner ? finishWith(tracker, state, res) : res;
    },
    close: options.flush,
  };
}
