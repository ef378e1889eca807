/**
 * `startProxy`: one validated RunConfig → a running proxy. The single code path used by the proxy
 * runner and the CLI (`bastion proxy --config`): secrets resolved, the remote URL checked after DNS
 * resolution, the canonical chain built, the server started with a connect-time address check on
 * every upstream connection and a redirect policy, and the Prometheus listener opened.
 */
import type { AuditSink } from '@bastion-mcp/audit';
import type { FetchLike } from '@bastion-mcp/auth';
import {
  type ExchangeLogger,
  type Middleware,
  type ProxyServer,
  type ReadinessReport,
  silentLogger,
  startProxyServer,
} from '@bastion-mcp/proxy-core';
import type { MetricsServer, Telemetry, TelemetryOptions } from '@bastion-mcp/telemetry';
import type { LookupFunction } from 'node:net';
import { type Dispatcher, EnvHttpProxyAgent } from 'undici';
import { buildChain, type Chain } from './chain/build-chain.js';
import type { RunConfig } from './config/schema.js';
import { type DnsLookup, createSafeLookup, resolveAndCheckRemoteUrl } from './net/remote-url.js';
import { createRedirectCheck } from './net/redirect-policy.js';
import { resolveSecrets, type SecretEnv, type SecretFileReader } from './secrets/resolve-secrets.js';

export interface StartProxyOptions {
  /**
   * Environment the secret references (`*Env`) and the outbound proxy settings (`HTTPS_PROXY`,
   * `HTTP_PROXY`, `NO_PROXY`) are read from. Libraries never read `process.env`: apps pass it. Default `{}`.
   */
  readonly env?: SecretEnv | undefined;
  /** Pino-compatible logger for the proxy, the chain and the access log. Default silent. */
  readonly logger?: ExchangeLogger | undefined;
  /** One log line per request (`access-log` observer). Default `false`. */
  readonly accessLog?: boolean | undefined;
  /** Reads `*File` secret references. Default `fs.promises.readFile`. */
  readonly readFile?: SecretFileReader | undefined;
  /** DNS lookup for the SSRF checks (start and every upstream connection). Default the system resolver. */
  readonly dnsLookup?: DnsLookup | undefined;
  /** Extra audit sinks (e.g. an in-memory sink in tests); audit is on when any is given. */
  readonly extraAuditSinks?: readonly AuditSink[] | undefined;
  /** Extra telemetry options (e.g. `spanExporters` in tests). */
  readonly telemetryOverrides?: Partial<TelemetryOptions> | undefined;
  /** `fetch` for identity-provider and STS calls. Default the global fetch. */
  readonly fetch?: FetchLike | undefined;
  /**
   * Middlewares appended after the RunConfig's chain, innermost (right before the forwarder), in the
   * given order: e.g. an app's own upstream credential (the CLI's OAuth session). They see only
   * requests that passed every configured layer, and what they set on `upstreamHeaders` is what the
   * remote receives. The proxy owns them from then on: their `close()` runs when the proxy closes,
   * and when the start fails. Default none.
   */
  readonly innerMiddlewares?: readonly Middleware[] | undefined;
}

/** A running proxy. */
export interface RunningProxy {
  /** The local MCP endpoint, e.g. `http://127.0.0.1:8080/mcp`. */
  readonly url: string;
  /** `http://host:port` of the proxy listener. */
  readonly origin: string;
  readonly port: number;
  /** The Prometheus endpoint, when the metrics listener runs. */
  readonly metricsUrl: string | undefined;
  /** The telemetry instance when telemetry is on (`forceFlush()`, `metricsHandler`). */
  readonly telemetry: Telemetry | undefined;
  /** Names of the chain's middlewares, outermost first. */
  readonly chain: readonly string[];
  /** `true` when `/ready` would answer 200 (JWKS fetched at least once with OIDC, not shutting down). */
  readonly ready: boolean;
  /** The `/ready` report: per-layer readiness. */
  readiness(): ReadinessReport;
  /** The underlying proxy-core server. */
  readonly server: ProxyServer;
  /**
   * Graceful stop: refuse new requests, let in-flight ones finish within `graceMs` (default
   * `limits.shutdownGraceMs`), end SSE streams cleanly, then close pools, middlewares, the metrics
   * listener and telemetry. Idempotent.
   */
  close(options?: { graceMs?: number | undefined }): Promise<void>;
}

function outboundProxy(
  env: SecretEnv,
  lookup: LookupFunction,
  connectTimeoutMs: number,
): Dispatcher | undefined {
  const get = (name: string) => env[name] ?? env[name.toLowerCase()];
  const httpsProxy = get('HTTPS_PROXY');
  const httpProxy = get('HTTP_PROXY');
  if (!httpsProxy && !httpProxy) return undefined;
  return new EnvHttpProxyAgent({
    httpProxy: httpProxy ?? '',
    httpsProxy: httpsProxy ?? '',
    noProxy: get('NO_PROXY') ?? '',
    connect: { lookup, timeout: connectTimeoutMs },
  });
}

/** Validate `options.innerMiddlewares` (a TypeError naming the option). */
function checkInnerMiddlewares(value: readonly Middleware[] | undefined): readonly Middleware[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new TypeError('"innerMiddlewares" must be an array of middlewares');
  value.forEach((m: unknown, i) => {
    const mw = m as Partial<Middleware> | null;
    if (
      mw === null ||
      typeof mw !== 'object' ||
      typeof mw.name !== 'string' ||
      mw.name === '' ||
      typeof mw.handle !== 'function'
    ) {
      throw new TypeError(`"innerMiddlewares[${i}]" must be a middleware ({ name, handle(exchange, next) })`);
    }
  });
  return [...value];
}

/** Close middlewares (innermost first), ignoring failures: used when a start fails. */
async function closeAll(middlewares: readonly Middleware[]): Promise<void> {
  for (const m of [...middlewares].reverse()) {
    try {
      await m.close?.();
    } catch {
      // best effort: the start already failed with the error that matters
    }
  }
}

/**
 * Start a proxy for a validated RunConfig (see `loadRunConfigFile` / `validateRunConfig`).
 *
 * @throws {SecretUnavailableError} a referenced secret is missing or empty.
 * @throws {RemoteUrlRefusedError} the remote URL resolves to a refused address (`RemoteUrlUnresolvableError` when it does not resolve).
 * @throws {RunConfigError} a layer refused its settings (e.g. a Cedar policy that does not parse).
 * @example
 * const config = await loadRunConfigFile('runconfig.json');
 * const proxy = await startProxy(config, { env: process.env, logger: pino() });
 * console.log(proxy.url);
 * process.once('SIGTERM', () => proxy.close());
 */
export async function startProxy(config: RunConfig, options: StartProxyOptions = {}): Promise<RunningProxy> {
  if (config === null || typeof config !== 'object' || config.schemaVersion !== 1) {
    throw new TypeError('"config" must be a validated RunConfig (see validateRunConfig)');
  }
  const inner = checkInnerMiddlewares(options.innerMiddlewares);
  const env = options.env ?? {};
  const logger = options.logger ?? silentLogger;
  const policy = {
    insecureLoopback: config.insecureLoopback,
    allowPrivateEndpoint: config.allowPrivateEndpoint,
  };

  let secrets: Awaited<ReturnType<typeof resolveSecrets>>;
  let lookup: LookupFunction;
  let dispatcher: Dispatcher | undefined;
  let chain: Chain;
  try {
    secrets = await resolveSecrets(config, env, options.readFile);
    const addresses = await resolveAndCheckRemoteUrl(config.remoteUrl, policy, options.dnsLookup);
    logger.debug({ remote: new URL(config.remoteUrl).origin, addresses }, 'remote URL checked');

    lookup = createSafeLookup(policy, options.dnsLookup) as unknown as LookupFunction;
    dispatcher = outboundProxy(env, lookup, config.limits.upstreamConnectTimeoutMs);

    chain = await buildChain(config, {
      secrets,
      logger,
      accessLog: options.accessLog,
      extraAuditSinks: options.extraAuditSinks,
      telemetryOverrides: options.telemetryOverrides,
      fetch: options.fetch,
    });
  } catch (err) {
    // The caller handed the inner middlewares over: release them when the start fails early.
    await closeAll(inner);
    await dispatcher?.close();
    throw err;
  }
  const middlewares = [...chain.middlewares, ...inner];

  let server: ProxyServer;
  try {
    server = await startProxyServer({
      upstreamUrl: config.remoteUrl,
      serverName: config.name,
      middlewares,
      transport: config.transport,
      host: config.listen.host,
      port: config.listen.port,
      path: config.listen.path,
      allowedOrigins: config.listen.allowedOrigins,
      allowedHosts: config.listen.allowedHosts,
      limits: { maxBodyBytes: config.limits.maxBodyBytes },
      closeGraceMs: config.limits.shutdownGraceMs,
      server: {
        headersTimeoutMs: config.limits.clientHeadersTimeoutMs,
        requestTimeoutMs: config.limits.clientRequestTimeoutMs,
      },
      logger,
      upstream: {
        connectTimeoutMs: config.limits.upstreamConnectTimeoutMs,
        headersTimeoutMs: config.limits.upstreamHeadersTimeoutMs,
        bodyTimeoutMs: config.limits.upstreamBodyTimeoutMs,
        lookup,
        checkRedirect: createRedirectCheck(config.remoteUrl, policy, options.dnsLookup),
        ...(dispatcher ? { dispatcher } : {}),
      },
    });
  } catch (err) {
    await closeAll(middlewares);
    await chain.close();
    await dispatcher?.close();
    throw err;
  }

  let metrics: MetricsServer | undefined;
  const m = config.metrics;
  if (chain.telemetry?.enabled && m?.enabled && (config.telemetry?.prometheus ?? true)) {
    try {
      metrics = await chain.telemetry.startMetricsServer({ host: m.host, port: m.port });
    } catch (err) {
      await server.close({ graceMs: 0 });
      await chain.close();
      await dispatcher?.close();
      throw err;
    }
  }

  let closing: Promise<void> | undefined;
  return {
    url: server.url,
    origin: server.origin,
    port: server.port,
    metricsUrl: metrics?.url,
    chain: Object.freeze(middlewares.map((m) => m.name)),
    telemetry: chain.telemetry,
    get ready() {
      return server.handler.readiness().ready;
    },
    readiness: () => server.handler.readiness(),
    server,
    close(closeOptions) {
      closing ??= (async () => {
        try {
          await server.close({ graceMs: closeOptions?.graceMs ?? config.limits.shutdownGraceMs });
        } finally {
          await Promise.allSettled([metrics?.close(), dispatcher?.close()]);
          await chain.close();
        }
      })();
      return closing;
    },
  };
}
