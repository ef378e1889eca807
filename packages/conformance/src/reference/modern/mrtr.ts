/**
 * Multi-round-trip requests (SEP-2322) of the reference upstream: an `input_required` result carries
 * `inputRequests` plus a signed `requestState`; the client retries the same method with a new
 * JSON-RPC id, `inputResponses` and the echoed state. Answers are validated per request method.
 */
import { isObject, type JsonObject, RpcCode, RpcFailure } from './protocol.js';
import type { StateCodec, StatePayload } from './request-state.js';

export type InputMethod = 'elicitation/create' | 'sampling/createMessage' | 'roots/list';

export interface InputRequest {
  method: InputMethod;
  params: JsonObject;
}

/** Capability a client must declare before the server may send an input request of this method. */
export const CAPABILITY_OF: Record<InputMethod, string> = {
  'elicitation/create': 'elicitation',
  'sampling/createMessage': 'sampling',
  'roots/list': 'roots',
};

export function elicit(message: string, property: string, type: 'string' | 'boolean'): InputRequest {
  return {
    method: 'elicitation/create',
    params: {
      mode: 'form',
      message,
      requestedSchema: { type: 'object', properties: { [property]: { type } }, required: [property] },
    },
  };
}

export function sample(text: string, maxTokens: number): InputRequest {
  return {
    method: 'sampling/createMessage',
    params: { messages: [{ role: 'user', content: { type: 'text', text } }], maxTokens },
  };
}

export const LIST_ROOTS: InputRequest = { method: 'roots/list', params: {} };

function validAnswer(method: InputMethod, answer: unknown): boolean {
  if (!isObject(answer)) return false;
  switch (method) {
    case 'elicitation/create':
      return (
        (answer.action === 'accept' && isObject(answer.content)) ||
        answer.action === 'decline' ||
        answer.action === 'cancel'
      );
    case 'sampling/createMessage':
      return typeof answer.role === 'string' && isObject(answer.content);
    case 'roots/list':
      return Array.isArray(answer.roots);
  }
}

/** One MRTR-capable request as its handler sees it. */
export class InputExchange {
  /** The verified state of a retry, if the client echoed one. */
  readonly state: StatePayload | undefined;
  private readonly responses: JsonObject | undefined;

  constructor(
    private readonly codec: StateCodec,
    private readonly method: string,
    readonly name: string,
    private readonly capabilities: JsonObject,
    params: JsonObject,
    state: StatePayload | undefined,
  ) {
    if ('inputResponses' in params && !isObject(params.inputResponses)) {
      throw new RpcFailure(200, RpcCode.InvalidParams, 'inputResponses must be an object');
    }
    this.responses = params.inputResponses as JsonObject | undefined;
    this.state = state;
  }

  /** Round the client is answering (0 when no state came back). */
  get round(): number {
    return this.state?.round ?? 0;
  }

  get carried(): Record<string, unknown> {
    return this.state?.carried ?? {};
  }

  /** Whether the client declared the capability an input method needs. */
  supports(method: InputMethod): boolean {
    return isObject(this.capabilities[CAPABILITY_OF[method]]);
  }

  /**
   * The answers to `requests` when every one is present and well-formed; `undefined` when some are
   * missing (re-request them). Malformed answers to a requested key are a -32602 error; answers to keys
   * that were not requested are ignored.
   */
  answers(requests: Record<string, InputRequest>): Record<string, JsonObject> | undefined {
    const out: Record<string, JsonObject> = {};
    for (const [key, req] of Object.entries(requests)) {
      if (this.responses === undefined || !(key in this.responses)) return undefined;
      const answer = this.responses[key];
      if (!validAnswer(req.method, answer)) {
        throw new RpcFailure(
          200,
          RpcCode.InvalidParams,
          `inputResponses["${key}"] is not a valid ${req.method} result`,
          {
            key,
          },
        );
      }
      out[key] = answer as JsonObject;
    }
    return out;
  }

  /** An `input_required` result asking `requests`, continuing at `round` with `carried` answers. */
  inputRequired(
    requests: Record<string, InputRequest>,
    round = 1,
    carried?: Record<string, unknown>,
  ): JsonObject {
    return {
      resultType: 'input_required',
      inputRequests: requests,
      requestState: this.codec.seal({ method: this.method, name: this.name, round, carried }),
    };
  }
}

/** -32021 naming the capabilities the client did not declare (`data.requiredCapabilities`). */
export function missingCapabilities(capabilities: readonly string[]): RpcFailure {
  return new RpcFailure(
    400,
    RpcCode.MissingRequiredClientCapability,
    `Missing required client capability: ${capabilities.join(', ')}`,
    { requiredCapabilities: Object.fromEntries(capabilities.map((c) => [c, {}])) },
  );
}

/** Throw -32021 unless the client declared the capability of every input method. */
export function requireCapabilities(capabilities: JsonObject, methods: readonly InputMethod[]): void {
  const missing = methods.map((m) => CAPABILITY_OF[m]).filter((c) => !isObject(capabilities[c]));
  if (missing.length > 0) throw missingCapabilities(missing);
}
