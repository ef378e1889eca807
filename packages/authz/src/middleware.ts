/**
 * `createAuthzMiddleware`: Cedar decisions on MCP requests, list responses filtered by the same
 * policies. Sits innermost of the MCP-aware layers (PRODUCT.md §1.2), so it sees the real (upstream)
 * tool name after tool-filter's renaming.
 */
import {
  type Exchange,
  isNotification,
  type JsonRpcMessage,
  mapResponseMessages,
  type Middleware,
  type Next,
  ProxyHttpError,
  type ProxyResponse,
  JsonRpcErrorCode,
} from '@bastion-mcp/proxy-core';
import { AnnotationCache } from './annotations.js';
import {
  allow,
  argumentsOf,
  deny,
  evaluateListAction,
  evaluateListen,
  evaluateTarget,
  type RequestDecision,
  targetOfRequest,
} from './decide.js';
import { type Decision, PolicyEngine } from './engine.js';
import {
  ANNOTATION_HINTS,
  buildPrincipal,
  type PrincipalPart,
  type Target,
  type ToolAnnotations,
} from './entity-model.js';
import { AuthzErrorCode, deniedError, invalidParamsError, methodNotFoundError } from './errors.js';
import { checkMirroredHeaders, isModernRevision, protocolVersionOf } from './headers.js';
import { filterListMessage, type ListItemKind, listKindOfResult } from './list-filter.js';
import { classify, type MethodClass } from './methods.js';
import { type AuthzOptions, resolveOptions } from './options.js';

export const AUTHZ_MIDDLEWARE_NAME = 'authz';

/** The middleware plus what it loaded (for diagnostics and tests). */
export interface AuthzMiddleware extends Middleware {
  /** The pre-parsed policy set (its policies with ids and sources; `evaluate` is the decision function). */
  readonly engine: PolicyEngine;
}

function describeTarget(target: Target): string {
  switch (target.kind) {
    case 'tool':
      return `Tool::${JSON.stringify(target.name)}`;
    case 'prompt':
      return `Prompt::${JSON.stringify(target.name)}`;
    case 'resource':
      return `Resource::${JSON.stringify(target.uri)}`;
    default:
      return 'MCP';
  }
}

function unfilterable(): ProxyHttpError {
  return new ProxyHttpError({
    status: 502,
    rpcCode: JsonRpcErrorCode.InternalError,
    publicMessage: 'Invalid response from upstream MCP server',
    code: AuthzErrorCode.UnfilterableResponse,
    message: 'a list response could not be read, so it could not be filtered',
  });
}

/**
 * Create the authz middleware. Reads policy/entities/schema files, parses and validates every policy
 * once, and pre-parses the set inside the Cedar engine.
 * @throws TypeError for a malformed option; AuthzConfigError for policies, schema or entities that
 *   cannot be loaded (every issue with source, policy id and line).
 */
export async function createAuthzMiddleware(options: AuthzOptions): Promise<AuthzMiddleware> {
  const opts = resolveOptions(options);
  const engine = await PolicyEngine.create(options);
  const needAnnotations =
    opts.toolAnnotations === 'always' ||
    (opts.toolAnnotations === 'auto' && engine.mentions(ANNOTATION_HINTS));
  const cache = new AnnotationCache({
    ttlMs: opts.annotationCacheTtlMs,
    refreshMinIntervalMs: opts.annotationRefreshMinIntervalMs,
    maxPages: opts.maxListPages,
    maxTools: 10_000,
  });
  const model = { groupEntityType: opts.groupEntityType, roleEntityType: opts.roleEntityType };

  // Identities are immutable and auth hands out the same one for a cached token, so the principal
  // entity (every claim mapped to Cedar) is built once per identity, not on every request.
  const principals = new WeakMap<object, PrincipalPart>();
  const principalOf = (exchange: Exchange): PrincipalPart | undefined => {
    const identity = exchange.identity;
    if (!identity) return undefined;
    let principal = principals.get(identity);
    if (principal === undefined) {
      principal = buildPrincipal(identity, model);
      principals.set(identity, principal);
    }
    return principal;
  };

  /** `what` is described only when there is something to log (most decisions have no errors). */
  const logErrors = (exchange: Exchange, what: string | Target, decision: Decision): void => {
    if (decision.errors.length === 0) return;
    const target = typeof what === 'string' ? what : describeTarget(what);
    for (const e of decision.errors) {
      exchange.log.warn(
        { middleware: AUTHZ_MIDDLEWARE_NAME, policyId: e.policyId, target, error: e.message },
        'Cedar policy evaluation error',
      );
    }
  };

  const record = (exchange: Exchange, d: RequestDecision): void => {
    exchange.notes.authz = { decision: d.decision, policyIds: d.policyIds, reason: d.reason };
    if (d.decision === 'deny') exchange.notes.rejectedBy = AUTHZ_MIDDLEWARE_NAME;
  };

  const enforce = (exchange: Exchange, d: RequestDecision, next: Next): Promise<ProxyResponse> => {
    record(exchange, d);
    if (d.decision === 'deny') {
      exchange.log.info(
        { middleware: AUTHZ_MIDDLEWARE_NAME, policyIds: d.policyIds, reason: d.reason, action: d.action },
        'Request denied by authz',
      );
      throw deniedError();
    }
    return next();
  };

  const filterer = (exchange: Exchange, principal: PrincipalPart | undefined) => {
    const markPrivate = isModernRevision(protocolVersionOf(exchange));
    return (message: JsonRpcMessage, kind: ListItemKind): JsonRpcMessage => {
      if (kind === 'tools' && 'result' in message && Array.isArray(message.result?.tools)) {
        cache.observe(exchange.serverName, message.result.tools);
      }
      return filterListMessage(message, kind, {
        engine,
        principal,
        serverName: exchange.serverName,
        markPrivate,
        onDecision: (target, decision) => logErrors(exchange, target, decision),
      }).message;
    };
  };

  /**
   * Fail closed on a method authz does not know, answering like a server that lacks it (the upstream
   * is not contacted): a request gets `-32601` (HTTP 404 from 2026-07-28, 200 before); a notification
   * gets the 202 a server gives any notification. Audit still sees a denial.
   */
  function refuseUnknown(exchange: Exchange, message: JsonRpcMessage, modern: boolean): ProxyResponse {
    const d = deny('unknown method denied by defaultUnknownMethod');
    record(exchange, d);
    const method = 'method' in message ? message.method.slice(0, 200) : undefined;
    exchange.log.info(
      { middleware: AUTHZ_MIDDLEWARE_NAME, method, reason: d.reason },
      'Unknown method refused by authz',
    );
    if (isNotification(message)) return { status: 202, headers: {}, body: { type: 'empty' } };
    throw methodNotFoundError(modern);
  }

  async function handleTarget(
    exchange: Exchange,
    next: Next,
    message: JsonRpcMessage,
    kind: 'tool' | 'prompt' | 'resource',
    principal: PrincipalPart,
  ): Promise<ProxyResponse> {
    const bare = targetOfRequest(message, kind);
    if (!bare) {
      // Nothing to decide on: a client error (the upstream would answer -32602 too), never forwarded.
      record(exchange, deny(`malformed ${kind} request`));
      throw invalidParamsError(kind);
    }
    let target: Target = bare;
    if (bare.kind === 'tool' && needAnnotations) {
      const found = await cache.lookup(exchange, next, bare.name);
      if (found.status === 'unavailable') {
        exchange.log.warn(
          { middleware: AUTHZ_MIDDLEWARE_NAME, tool: bare.name, error: String(found.error) },
          'Upstream tool annotations unavailable; denying',
        );
        return enforce(exchange, deny('tool annotations unavailable'), next);
      }
      const annotations: ToolAnnotations | undefined =
        found.status === 'found' ? found.annotations : undefined;
      target = { ...bare, annotations };
    }
    const d = evaluateTarget(engine, principal, exchange.serverName, target, argumentsOf(message));
    logErrors(exchange, target, d);
    return enforce(exchange, d, next);
  }

  async function handleList(
    exchange: Exchange,
    next: Next,
    message: JsonRpcMessage,
    cls: Extract<MethodClass, { kind: 'list' }>,
    principal: PrincipalPart | undefined,
  ): Promise<ProxyResponse> {
    if (opts.authorizeListRequests) {
      const d = principal
        ? evaluateListAction(engine, principal, exchange.serverName, cls)
        : deny('no identity');
      logErrors(exchange, 'MCP', d);
      record(exchange, d);
      if (d.decision === 'deny') throw deniedError();
    } else {
      record(exchange, allow('list answered; items filtered by policy'));
    }
    const res = await next();
    if (res.status < 200 || res.status >= 300) return res;
    const id = 'id' in message ? message.id : undefined;
    const filter = filterer(exchange, principal);
    const mapped = await mapResponseMessages(res, (m) =>
      !('method' in m) && 'id' in m && m.id === id ? filter(m, cls.item) : m,
    );
    if (mapped.body.type === 'stream') {
      // Neither JSON nor SSE (or JSON that does not parse): it cannot be filtered, so it is not passed on.
      mapped.body.stream.destroy();
      throw unfilterable();
    }
    return mapped;
  }

  /** Server-to-client streams (GET): list results are recognised by shape and filtered too. */
  async function handleStream(exchange: Exchange, next: Next): Promise<ProxyResponse> {
    const res = await next();
    if (res.status < 200 || res.status >= 300) return res;
    if (res.body.type === 'stream' && !/event-stream/.test(String(res.headers['content-type'] ?? '')))
      return res;
    const filter = filterer(exchange, principalOf(exchange));
    return mapResponseMessages(res, (m) => {
      if ('method' in m) {
        if (m.method === 'notifications/tools/list_changed') cache.invalidate(exchange.serverName);
        return m;
      }
      if (!('result' in m) || typeof m.result !== 'object' || m.result === null) return m;
      const kind = listKindOfResult(m.result);
      return kind ? filter(m, kind) : m;
    });
  }

  async function handle(exchange: Exchange, next: Next): Promise<ProxyResponse> {
    const message = exchange.rpc;
    if (!message) {
      return exchange.request.method === 'GET' ? handleStream(exchange, next) : next();
    }
    const modern = isModernRevision(protocolVersionOf(exchange));
    const cls = classify(message, opts.passthroughMethods, modern);
    if (cls.kind === 'client-response') return next();
    if (opts.checkMirroredHeaders) {
      try {
        checkMirroredHeaders(exchange, message, modern);
      } catch (err) {
        exchange.notes.authz = {
          decision: 'deny',
          policyIds: [],
          reason: 'Mcp-Method/Mcp-Name header mismatch',
        };
        exchange.notes.rejectedBy = AUTHZ_MIDDLEWARE_NAME;
        throw err;
      }
    }
    if (cls.kind === 'pass') return next();
    if (cls.kind === 'unknown') {
      if (opts.defaultUnknownMethod === 'allow') {
        return enforce(exchange, allow('unknown method allowed by defaultUnknownMethod'), next);
      }
      return refuseUnknown(exchange, message, modern);
    }
    const principal = principalOf(exchange);
    if (cls.kind === 'list') return handleList(exchange, next, message, cls, principal);
    if (!principal) return enforce(exchange, deny('no authenticated identity'), next);
    if (cls.kind === 'listen') {
      const d = evaluateListen(engine, principal, exchange.serverName, message);
      logErrors(exchange, 'subscriptions/listen', d);
      return enforce(exchange, d, next);
    }
    return handleTarget(exchange, next, message, cls.target, principal);
  }

  return {
    name: AUTHZ_MIDDLEWARE_NAME,
    engine,
    handle,
  };
}
