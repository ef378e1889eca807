/** Test helpers: real proxy-core exchanges and chains, an ajv validator for the published schema. */
import type { IncomingHttpHeaders } from 'node:http';
import type { Identity, JsonRpcMessage, Middleware, ProxyResponse } from '@bastion-mcp/proxy-core';
import { composeChain, Exchange } from '@bastion-mcp/proxy-core';
import AjvModule from 'ajv';
import type { AuditEvent } from '../src/event.js';
import { auditEventSchema } from '../src/schema.js';
import type { AuditSink } from '../src/sinks/sink.js';

type AjvCtor = new (
  opts?: Record<string, unknown>,
) => {
  compile(schema: unknown): ((data: unknown) => boolean) & { errors?: unknown };
};
const Ajv = ((AjvModule as unknown as { default?: AjvCtor }).default ?? AjvModule) as unknown as AjvCtor;
const validateFn = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(
  auditEventSchema,
);

/** Asserts `event` matches the published JSON Schema (throws with ajv's errors otherwise). */
export function assertValidEvent(event: unknown): asserts event is AuditEvent {
  if (!validateFn(event)) {
    throw new Error(
      `audit event does not match the schema: ${JSON.stringify(validateFn.errors)}\n${JSON.stringify(event)}`,
    );
  }
}

export interface ExchangeInit {
  method?: string;
  path?: string;
  headers?: IncomingHttpHeaders;
  rpc?: JsonRpcMessage | undefined;
  body?: Buffer;
  remoteAddress?: string;
  identity?: Identity;
  signal?: AbortSignal;
}

let seq = 0;

export function makeExchange(init: ExchangeInit = {}): Exchange {
  const rpc = init.rpc;
  const body = init.body ?? (rpc ? Buffer.from(JSON.stringify(rpc)) : Buffer.alloc(0));
  const ex = new Exchange({
    request: {
      method: init.method ?? 'POST',
      path: init.path ?? '/mcp',
      query: '',
      headers: init.headers ?? {},
      body,
      remoteAddress: init.remoteAddress ?? '127.0.0.1',
      protocol: 'http',
    },
    requestId: `req-${++seq}`,
    serverName: 'demo',
    route: 'streamable',
    rpc,
    upstreamHeaders: {},
    signal: init.signal ?? new AbortController().signal,
  });
  if (init.identity) ex.identity = init.identity;
  return ex;
}

export function identity(partial: Partial<Identity> = {}): Identity {
  return {
    subject: 'u1',
    name: 'Ann',
    email: 'ann@example.com',
    groups: [],
    roles: [],
    scopes: [],
    claims: { sub: 'u1' },
    tokenKind: 'jwt',
    ...partial,
  };
}

/** Run `exchange` through `middlewares` around `terminal` (a stand-in for the forwarder). */
export function run(
  middlewares: Middleware[],
  exchange: Exchange,
  terminal: (ex: Exchange) => Promise<ProxyResponse>,
): Promise<ProxyResponse> {
  return composeChain(middlewares, terminal)(exchange);
}

/** A sink that keeps events in memory. */
export function memorySink(name = 'memory'): AuditSink & { events: AuditEvent[] } {
  const events: AuditEvent[] = [];
  return {
    name,
    events,
    async write(batch) {
      events.push(...batch);
    },
  };
}

/** Consume a response body completely (what the edge does). */
export async function drain(res: ProxyResponse): Promise<string> {
  const body = res.body;
  if (body.type === 'json') return JSON.stringify(body.value);
  if (body.type === 'empty') return '';
  if (body.type === 'sse') {
    let out = '';
    for await (const ev of body.events) out += `data: ${ev.data}\n\n`;
    return out;
  }
  const chunks: Buffer[] = [];
  for await (const c of body.stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export const tick = () => new Promise<void>((r) => setImmediate(r));
