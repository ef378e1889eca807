/** The two chain layers: `telemetry-edge` (optional, outermost) and `telemetry` (chain position 6). */
import { context } from '@opentelemetry/api';
import {
  type Exchange,
  type Middleware,
  mapResponseMessages,
  type Next,
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

export function createInnerMiddleware(tracker: RequestTracker, options: InnerOptions): Middleware {
  /** Read the answer's JSON-RPC messages (never changing them) when something needs them. */
  async function inspect(state: RequestState, res: ProxyResponse): Promise<ProxyResponse> {
    const facts = state.facts;
    if (facts.requestId === undefined || res.status < 200 || res.status >= 300) return res;
    if (!options.inspectResponses && facts.method !== 'tools/list') return res;
    const body = res.body;
    if (body.type === 'empty') return res;
    if (body.type === 'json') {
      const value = body.value;
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        tracker.observeMessage(state, value as Parameters<RequestTracker['observeMessage']>[1]);
      }
      return res;
    }
    return mapResponseMessages(res, (message) => {
      tracker.observeMessage(state, message);
      return message;
    });
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
      try {
        res = await inspect(state, res);
      } catch (err) {
        if (owner) tracker.finish(state, statusOfError(err), err);
        throw err;
      }
      return owner ? finishWith(tracker, state, res) : res;
    },
    close: options.flush,
  };
}
