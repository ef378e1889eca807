/** Assemble an audit event from the exchange, the request as the client sent it, and the outcome. */
import { randomUUID } from 'node:crypto';
import type { Exchange, JsonRpcMessage } from '@bastion-mcp/proxy-core';
import { BastionError, idOf, isRequest, ProxyHttpError } from '@bastion-mcp/proxy-core';
import { delegationOf } from './delegation.js';
import type {
  AuditEvent,
  AuditEventType,
  AuditOutcome,
  AuditPayloads,
  AuditSubject,
  AuditTarget,
} from './event.js';
import type { AnswerFacts as ResponseFacts } from '@bastion-mcp/proxy-core';
import type { ResolvedAuditOptions } from './options.js';
import { bearerOf, scrub, valueScan } from './redact.js';

/** What audit captured before calling the inner chain. */
export interface RequestSnapshot {
  readonly type: AuditEventType;
  readonly time: string;
  /** The JSON-RPC message as the client sent it (before any rewrite by inner layers). */
  readonly rpc: JsonRpcMessage | undefined;
}

/** How the inner chain ended: a response (observed) or a thrown error. */
export type Ending =
  | { readonly kind: 'response'; readonly facts: ResponseFacts }
  | { readonly kind: 'error'; readonly error: unknown };

const MAX_TEXT = 1024;

/**
 * Nesting in an event is limited to 64 levels counted from its root; a payload sits two levels down
 * (`data.request`), so its field scan stops at 62.
 */
const PAYLOAD_SCAN_DEPTH = 62;

function text(v: unknown, max = MAX_TEXT): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v.slice(0, max) : undefined;
}

function headerOf(exchange: Exchange, name: string): string | undefined {
  const v = exchange.request.headers[name];
  return text(Array.isArray(v) ? v[0] : v);
}

function paramsOf(rpc: JsonRpcMessage | undefined): Record<string, unknown> | undefined {
  if (!rpc || !('params' in rpc)) return undefined;
  const p = rpc.params;
  return typeof p === 'object' && p !== null && !Array.isArray(p) ? p : undefined;
}

function clientInfoOf(rpc: JsonRpcMessage | undefined): { name?: string; version?: string } | undefined {
  const params = paramsOf(rpc);
  if (!params) return undefined;
  let info: unknown;
  if (isRequest(rpc) && rpc.method === 'initialize') info = params.clientInfo;
  if (info === undefined) {
    const meta = params._meta;
    if (typeof meta === 'object' && meta !== null)
      info = (meta as Record<string, unknown>)['io.modelcontextprotocol/clientInfo'];
  }
  if (typeof info !== 'object' || info === null) return undefined;
  const i = info as Record<string, unknown>;
  const out: { name?: string; version?: string } = {};
  const name = text(i.name, 256);
  const version = text(i.version, 128);
  if (name !== undefined) out.name = name;
  if (version !== undefined) out.version = version;
  return out;
}

function outcomeOfStatus(status: number): AuditOutcome {
  if (status === 401 || status === 403) return 'denied';
  if (status >= 500) return 'error';
  if (status >= 400) return 'failure';
  return 'success';
}

function rpcErrorOf(
  answer: Record<string, unknown> | undefined,
): { code: number; message: string } | undefined {
  const e = answer?.error;
  if (typeof e !== 'object' || e === null) return undefined;
  const err = e as Record<string, unknown>;
  return {
    code: typeof err.code === 'number' ? err.code : 0,
    message: text(err.message, 256) ?? '',
  };
}

function sizeOf(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

function tokenExchangeNotes(
  notes: Record<string, unknown>,
): Record<string, string | number | boolean> | undefined {
  const te = notes['token-exchange'];
  if (typeof te !== 'object' || te === null) return undefined;
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(te)) {
    if (typeof v === 'string') out[k] = v.slice(0, 256);
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Build the event. Every value that reaches it goes through the value scan (JWT-shaped values,
 * `Bearer` credentials and the request's own bearer token) as it is set, so the finished event needs
 * no walk or copy; decisions compare the values as received. A payload is redacted by key and value
 * and measured, then scanned like every other field of the event.
 */
export function buildEvent(
  exchange: Exchange,
  snapshot: RequestSnapshot,
  ending: Ending,
  options: ResolvedAuditOptions,
  upstreamStatus: number | undefined,
): AuditEvent {
  const rpcIn = snapshot.rpc;
  const rpcNow = exchange.rpc;
  const notes = exchange.notes;
  // The bearer token of the request, read only to scrub it from the event, never recorded.
  const bearer = bearerOf(exchange.request.headers.authorization);
  const secrets = bearer ? [bearer] : undefined;
  const clean = valueScan(secrets);

  // subject
  const subject: AuditSubject = {};
  const id = exchange.identity;
  if (id) {
    if (id.tokenKind !== 'anonymous') subject.userId = clean(text(id.subject, 512) ?? '');
    const name = text(id.name, 256);
    const email = text(id.email, 256);
    if (name !== undefined) subject.name = clean(name);
    if (email !== undefined) subject.email = clean(email);
    subject.tokenKind = clean(id.tokenKind);
  }
  const clientInfo = clientInfoOf(rpcIn);
  if (clientInfo?.name !== undefined) subject.clientName = clean(clientInfo.name);
  if (clientInfo?.version !== undefined) subject.clientVersion = clean(clientInfo.version);

  // source
  const peer = exchange.request.remoteAddress;
  const ip = options.trustedProxies.clientIp(peer, exchange.request.headers['x-forwarded-for']);
  const source: AuditEvent['source'] = { ip: clean(ip), requestId: clean(exchange.requestId) };
  if (ip !== peer) source.peer = clean(peer);
  const ua = headerOf(exchange, 'user-agent');
  if (ua !== undefined) source.userAgent = clean(ua);

  // target
  const target: AuditTarget = {
    server: clean(exchange.serverName),
    endpoint: clean(exchange.request.path),
    httpMethod: clean(exchange.request.method.toUpperCase()),
  };
  const msg = rpcIn ?? rpcNow;
  const method = msg && 'method' in msg ? msg.method : undefined;
  if (method !== undefined) target.method = clean(method);
  const rpcId = idOf(msg);
  if (rpcId !== null) target.rpcId = clean(rpcId);
  const paramsNow = paramsOf(rpcNow) ?? paramsOf(rpcIn);
  const paramsIn = paramsOf(rpcIn);
  if (method === 'tools/call') {
    const real = text(paramsNow?.name, 256);
    const asked = text(notes.clientToolName, 256) ?? text(paramsIn?.name, 256);
    if (real !== undefined) target.tool = clean(real);
    if (asked !== undefined && asked !== real) target.clientToolName = clean(asked);
  } else if (method === 'prompts/get') {
    const p = text(paramsNow?.name, 256);
    if (p !== undefined) target.prompt = clean(p);
  } else if (method === 'resources/read' || method === 'resources/subscribe') {
    const r = text(paramsNow?.uri, 2048);
    if (r !== undefined) target.resource = clean(r);
  }

  // outcome
  let status: number;
  let outcome: AuditOutcome;
  let rpcError: AuditEvent['rpcError'];
  let errorCode: string | undefined;
  let toolError = false;
  let answer: Record<string, unknown> | undefined;
  let streamIncomplete = false;
  let uninspectedBytes: number | undefined;
  let sessionId = headerOf(exchange, 'mcp-session-id');
  if (ending.kind === 'error') {
    const err = ending.error;
    if (err instanceof ProxyHttpError) {
      status = err.status;
      if (!err.oauthError) rpcError = { code: err.rpcCode, message: err.publicMessage.slice(0, 256) };
    } else {
      status = 500;
    }
    if (BastionError.isInstance(err)) errorCode = err.code;
    outcome = outcomeOfStatus(status);
  } else {
    const f = ending.facts;
    status = f.status;
    answer = f.answer;
    uninspectedBytes = f.uninspectedBytes;
    streamIncomplete = f.incomplete === true;
    sessionId ??= text(f.sessionId);
    outcome = outcomeOfStatus(status);
    rpcError = rpcErrorOf(answer);
    const result = answer?.result;
    toolError =
      method === 'tools/call' &&
      typeof result === 'object' &&
      result !== null &&
      (result as Record<string, unknown>).isError === true;
    if (outcome === 'success' && (rpcError !== undefined || toolError)) outcome = 'application_error';
    if (outcome === 'success' && streamIncomplete) outcome = 'error';
  }
  if (sessionId !== undefined) target.sessionId = clean(sessionId);
  const rejectedBy = text(notes.rejectedBy, 64);
  if (rejectedBy !== undefined || notes.authz?.decision === 'deny') outcome = 'denied';

  const event: AuditEvent = {
    auditId: clean(randomUUID()),
    time: clean(snapshot.time),
    type: clean(snapshot.type),
    outcome: clean(outcome),
    subject,
    source,
    target,
    durationMs: Math.max(0, Math.round((performance.now() - exchange.startedAt) * 1000) / 1000),
    status,
  };
  if (upstreamStatus !== undefined) event.upstreamStatus = upstreamStatus;
  if (rpcError !== undefined) event.rpcError = { code: rpcError.code, message: clean(rpcError.message) };
  if (toolError) event.toolError = true;
  if (errorCode !== undefined) event.errorCode = clean(errorCode);
  if (rejectedBy !== undefined) event.rejectedBy = clean(rejectedBy);
  if (notes.authz) {
    const policyIds: string[] = [];
    for (const p of notes.authz.policyIds) {
      if (typeof p !== 'string') continue;
      policyIds.push(clean(p));
      if (policyIds.length === 64) break;
    }
    event.authz = { decision: clean(notes.authz.decision), policyIds };
    const reason = text(notes.authz.reason, 256);
    if (reason !== undefined) event.authz.reason = clean(reason);
  }
  const cred = text(notes.upstreamCredential, 64);
  if (cred !== undefined) event.upstreamCredential = clean(cred);
  const te = tokenExchangeNotes(notes);
  if (te) event.tokenExchange = clean(te);
  const delegation = delegationOf(id?.claims, options.maxDelegationDepth);
  if (delegation) event.delegation = clean(delegation);
  if (streamIncomplete) event.streamIncomplete = true;

  const p = options.payloads;
  if (p) {
    const data: AuditPayloads = {};
    if (p.request) {
      if (rpcIn !== undefined) {
        const redacted = scrub(rpcIn, { keys: p.redactKeys, secrets });
        const bytes = sizeOf(redacted);
        if (bytes <= p.maxBytes) data.request = valueScan(secrets, PAYLOAD_SCAN_DEPTH)(redacted);
        else data.requestOmitted = { reason: clean('too_large'), bytes };
      } else if (exchange.request.body.length > 0) {
        data.requestOmitted = { reason: clean('not_json'), bytes: exchange.request.body.length };
      }
    }
    if (p.response && ending.kind === 'response') {
      if (answer !== undefined) {
        const redacted = scrub(answer, { keys: p.redactKeys, secrets });
        const bytes = sizeOf(redacted);
        if (bytes <= p.maxBytes) data.response = valueScan(secrets, PAYLOAD_SCAN_DEPTH)(redacted);
        else data.responseOmitted = { reason: clean('too_large'), bytes };
      } else if (uninspectedBytes !== undefined) {
        data.responseOmitted = { reason: clean('too_large'), bytes: uninspectedBytes };
      }
    }
    if (Object.keys(data).length > 0) event.data = data;
  }
  return event;
}
