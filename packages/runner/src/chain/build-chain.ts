/**
 * `buildChain`: a validated RunConfig → the middlewares of PRODUCT.md §1.2, in canonical order.
 * Building is all-or-nothing: when one layer cannot be built (a policy that does not parse, an audit
 * file that cannot be opened), the layers already built are closed and a `RunConfigError` names the
 * RunConfig field at fault.
 */
import { type AuditSink, createAuditMiddleware } from '@bastion-mcp/audit';
import type { AuditEventType } from '@bastion-mcp/audit';
import { createAuthMiddleware, type FetchLike, resourceMetadataUrl } from '@bastion-mcp/auth';
import { AuthzConfigError, createAuthzMiddleware } from '@bastion-mcp/authz';
import { BastionError, type ExchangeLogger, type Middleware, silentLogger } from '@bastion-mcp/proxy-core';
import { createTelemetry, type Telemetry, type TelemetryOptions } from '@bastion-mcp/telemetry';
import { createTokenExchangeMiddleware } from '@bastion-mcp/token-exchange';
import { createToolFilterMiddleware } from '@bastion-mcp/tool-filter';
import type { RunConfig } from '../config/schema.js';
import { RunConfigError } from '../errors.js';
import type { ResolvedSecrets } from '../secrets/resolve-secrets.js';
import { createAccessLogMiddleware } from './access-log.js';
import { assertCanonicalOrder } from './order.js';
import { createUpstreamCredentialMiddleware } from './upstream-credential.js';

/** What `buildChain` needs besides the RunConfig. */
export interface ChainDeps {
  /** The secrets the RunConfig references (from `resolveSecrets`). */
  readonly secrets: ResolvedSecrets;
  /** Logger for build-time warnings, audit drops and the access log. Default silent. */
  readonly logger?: ExchangeLogger | undefined;
  /** Add the `access-log` observer (one log line per request). Default `false`. */
  readonly accessLog?: boolean | undefined;
  /** Audit sinks used in addition to the configured ones (e.g. an in-memory sink in tests). */
  readonly extraAuditSinks?: readonly AuditSink[] | undefined;
  /** Extra telemetry options merged over the ones derived from the RunConfig (e.g. `spanExporters`). */
  readonly telemetryOverrides?: Partial<TelemetryOptions> | undefined;
  /** `fetch` for identity-provider and STS calls (custom CA, outbound proxy). Default global fetch. */
  readonly fetch?: FetchLike | undefined;
}

/** The assembled chain. */
export interface Chain {
  /** Outermost first: give them to `startProxyServer({ middlewares })`. */
  readonly middlewares: readonly Middleware[];
  /** Their names, in order (the tested invariant). */
  readonly names: readonly string[];
  /** The telemetry instance, when telemetry is on (for its metrics listener). */
  readonly telemetry: Telemetry | undefined;
  /**
   * Release what the proxy server does not: telemetry exporters and subscriptions. The proxy server's
   * `close()` closes the middlewares; call this after it. Idempotent.
   */
  close(): Promise<void>;
}

/** Whether the RunConfig turns telemetry on: `telemetry.enabled` (default true when the key is present), or a `metrics` listener. */
export function telemetryEnabled(config: RunConfig): boolean {
  if (config.telemetry) return config.telemetry.enabled;
  return config.metrics?.enabled === true;
}

function configError(path: string, err: unknown): RunConfigError {
  if (err instanceof AuthzConfigError) {
    const issues = err.issues.length
      ? err.issues.map((i) => ({
          path,
          message: `${i.source}${i.line === undefined ? '' : `:${i.line}:${i.column ?? 1}`}${i.policyId ? ` (policy "${i.policyId}")` : ''}: ${i.message}`,
        }))
      : [{ path, message: err.message }];
    return new RunConfigError(issues, undefined, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new RunConfigError([{ path, message }], undefined, { cause: err });
}

/**
 * Build the canonical chain for a validated RunConfig.
 *
 * @throws {RunConfigError} when a layer refuses its settings (the issue's `path` names the RunConfig
 *   section, e.g. `authz` for a policy that does not parse, `audit.sinks` for a file that cannot be opened).
 */
export async function buildChain(config: RunConfig, deps: ChainDeps): Promise<Chain> {
  if (config === null || typeof config !== 'object') throw new TypeError('"config" must be a RunConfig');
  if (deps === null || typeof deps !== 'object' || typeof deps.secrets !== 'object') {
    throw new TypeError('"deps.secrets" must be the result of resolveSecrets()');
  }
  const log = deps.logger ?? silentLogger;
  const { secrets } = deps;
  const built: Middleware[] = [];
  let telemetry: Telemetry | undefined;

  const step = async <T>(path: string, make: () => T | Promise<T>): Promise<T> => {
    try {
      return await make();
    } catch (err) {
      if (err instanceof RunConfigError) throw err;
      if (err instanceof TypeError || err instanceof BastionError || BastionError.isInstance(err)) {
        throw configError(path, err);
      }
      throw err;
    }
  };

  try {
    const oidc = config.auth.mode === 'oidc' ? config.auth : undefined;
    const challenge = oidc
      ? { realm: oidc.issuer, resourceMetadataUrl: resourceMetadataUrl(oidc.resourceUrl) }
      : undefined;

    // Telemetry first: its two layers share one instance.
    if (telemetryEnabled(config)) {
      const t = config.telemetry;
      telemetry = await step('telemetry', () =>
        createTelemetry({
          enabled: true,
          serviceName: t?.serviceName ?? 'bastion',
          serverName: config.name,
          sampleRatio: t?.sampleRatio ?? 1,
          prometheus: t?.prometheus ?? true,
          recordArguments: t?.recordArguments ?? false,
          recordUserId: t?.recordUserId ?? false,
          ...(t?.otlpEndpoint ? { otlp: { endpoint: t.otlpEndpoint } } : {}),
          ...deps.telemetryOverrides,
        }),
      );
    }

    const middlewares: Middleware[] = [];
    const add = (m: Middleware) => {
      built.push(m);
      middlewares.push(m);
    };

    if (deps.accessLog) add(createAccessLogMiddleware(log));
    if (telemetry?.enabled) middlewares.push(telemetry.edge);

    // 2. audit
    const audit = config.audit;
    if ((audit?.enabled ?? false) || (deps.extraAuditSinks?.length ?? 0) > 0) {
      add(
        await step('audit', () =>
          createAuditMiddleware({
            enabled: true,
            sinks: [
              ...(audit?.sinks ?? []).map((s) =>
                s.type === 'file'
                  ? {
                      type: 'file' as const,
                      path: s.path,
                      maxBytes: s.maxBytes,
                      maxFiles: s.maxFiles,
                      flushIntervalMs: s.flushIntervalMs,
                      syncWrites: s.syncWrites,
                    }
                  : s,
              ),
              ...(deps.extraAuditSinks ?? []),
            ],
            includeTypes: audit?.include as AuditEventType[] | undefined,
            excludeTypes: audit?.exclude as AuditEventType[] | undefined,
            payloads: audit?.payloads
              ? { maxBytes: audit.payloads.maxBytes, redactKeys: audit.payloads.redactKeys }
              : undefined,
            trustedProxies: audit?.trustedProxies,
            queueSize: audit?.queueSize,
            onDrop: ({ sink, reason, count }) => log.warn({ sink, reason, count }, 'audit events dropped'),
          }),
        ),
      );
    }

    // 3. auth
    if (oidc) {
      const introspection =
        oidc.introspectionUrl !== undefined || secrets.introspectionClientSecret !== undefined
          ? {
              url: oidc.introspectionUrl,
              clientId: oidc.clientId,
              clientSecret: secrets.introspectionClientSecret,
            }
          : undefined;
      add(
        await step('auth', () =>
          createAuthMiddleware({
            issuer: oidc.issuer,
            audience: oidc.audience,
            jwksUrl: oidc.jwksUrl,
            resource: oidc.resourceUrl,
            scopesSupported: oidc.scopes,
            requiredScopes: oidc.requiredScopes,
            clockToleranceMs: oidc.clockSkewSeconds * 1000,
            jwt: {
              ...(oidc.algorithms ? { algorithms: oidc.algorithms } : {}),
              ...(oidc.requireAtJwtType ? { typ: 'at+jwt' } : {}),
            },
            introspection,
            claims: {
              userId: oidc.claims.user,
              groups: oidc.claims.groups,
              roles: oidc.claims.roles,
              name: oidc.claims.name,
              email: oidc.claims.email,
            },
            resourceName: config.name,
            fetch: deps.fetch,
          }),
        ),
      );
    } else {
      const user = config.auth.mode === 'anonymous' ? config.auth.user : 'anonymous';
      add(
        await step('auth', () =>
          createAuthMiddleware({ mode: 'anonymous', anonymous: { subject: user, name: user } }),
        ),
      );
    }

    // 4. token exchange
    const te = config.tokenExchange;
    if (te) {
      add(
        await step('tokenExchange', () =>
          createTokenExchangeMiddleware({
            grant: te.grant,
            tokenUrl: te.tokenUrl,
            issuer: te.issuer,
            clientId: te.clientId,
            clientAuth: te.clientAuth,
            clientSecret: secrets.tokenExchangeClientSecret,
            privateKey: secrets.tokenExchangePrivateKey,
            audience: te.audience,
            resource: te.resource,
            scope: te.scopes,
            subjectTokenType: te.subjectTokenType,
            requestedTokenType: te.requestedTokenType,
            expirySkewMs: te.skewSeconds * 1000,
            header: te.header ? { name: te.header.name, keepOriginal: te.header.keepOriginal } : undefined,
            // The RunConfig check already limited plain http to loopback with insecureLoopback.
            allowInsecureRequests: config.insecureLoopback,
            challenge,
            fetch: deps.fetch as never,
          }),
        ),
      );
    }

    // 5. tool filter
    const tools = config.tools;
    if (tools && (tools.filter !== undefined || tools.overrides !== undefined)) {
      add(
        await step('tools', () =>
          createToolFilterMiddleware({ filter: tools.filter, overrides: tools.overrides }),
        ),
      );
    }

    // 6. telemetry
    if (telemetry?.enabled) middlewares.push(telemetry.middleware);

    // 7. authz
    const az = config.authz;
    if (az) {
      add(
        await step('authz', () =>
          createAuthzMiddleware({
            policies: az.policies,
            policyFiles: az.policyFile ? [az.policyFile] : undefined,
            entities: az.entities as never,
            entitiesFile: az.entitiesFile,
            schemaFile: az.schemaFile,
            groupEntityType: az.groupEntityType,
            roleEntityType: az.roleEntityType,
            defaultUnknownMethod: az.defaultUnknownMethod,
          }),
        ),
      );
    }

    // 8. header forward + upstream credential
    const headers = { ...config.headerForward?.plain, ...secrets.forwardedHeaders };
    const passthrough = oidc?.passthroughToken === true;
    if (Object.keys(headers).length > 0 || secrets.upstreamBearerToken !== undefined || passthrough) {
      add(
        await step('upstreamAuth', () =>
          createUpstreamCredentialMiddleware({
            headers,
            bearerToken: secrets.upstreamBearerToken,
            passthroughToken: passthrough,
          }),
        ),
      );
    }

    const names = middlewares.map((m) => m.name);
    assertCanonicalOrder(names);
    let closed: Promise<void> | undefined;
    const t = telemetry;
    return {
      middlewares: Object.freeze(middlewares),
      names: Object.freeze(names),
      telemetry: t,
      close() {
        closed ??= t ? t.shutdown() : Promise.resolve();
        return closed;
      },
    };
  } catch (err) {
    // All or nothing: release what was built (audit files, JWKS timers, telemetry).
    await Promise.allSettled(built.map((m) => m.close?.()));
    await telemetry?.shutdown().catch(() => {});
    throw err;
  }
}
