/**
 * Start the local proxy for a RunConfig with the runner's own building blocks (the same code path as
 * the proxy runner): secrets resolved, the canonical chain from `buildChain`, the SSRF-checked
 * lookup and redirect policy. Without extra middlewares this is exactly the runner's `startProxy`.
 *
 * With the CLI's upstream credential (OAuth session or static token) the chain is assembled here,
 * the credential appended innermost (right before the forwarder), because the runner's
 * `startProxy` has no option for extra middlewares yet (wanted: `StartProxyOptions.innerMiddlewares`).
 */
import type { ExchangeLogger, Middleware } from '@bastion-mcp/proxy-core';
import type { RunConfig } from '@bastion-mcp/runner';
import { CliError, CliErrorCode, ExitCode } from '../errors.js';

export interface RunningProxy {
  readonly url: string;
  readonly port: number;
  /** Middleware names, outermost first. */
  readonly chain: readonly string[];
  close(): Promise<void>;
}

export interface StartOptions {
  logger: ExchangeLogger;
  /** Middlewares placed after the runner's chain (innermost, right before the forwarder). */
  innerMiddlewares?: readonly Middleware[] | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

export async function startRunConfig(config: RunConfig, options: StartOptions): Promise<RunningProxy> {
  const runner = await import('@bastion-mcp/runner');
  const env = options.env ?? process.env;
  const inner = options.innerMiddlewares ?? [];
  try {
    if (inner.length === 0) {
      const p = await runner.startProxy(config, { env, logger: options.logger });
      return { url: p.url, port: p.port, chain: p.chain, close: () => p.close() };
    }
    const { startProxyServer } = await import('@bastion-mcp/proxy-core');
    const policy = {
      insecureLoopback: config.insecureLoopback,
      allowPrivateEndpoint: config.allowPrivateEndpoint,
    };
    const secrets = await runner.resolveSecrets(config, env);
    await runner.resolveAndCheckRemoteUrl(config.remoteUrl, policy);
    const chain = await runner.buildChain(config, { secrets, logger: options.logger });
    const middlewares = [...chain.middlewares, ...inner];
    let server: Awaited<ReturnType<typeof startProxyServer>>;
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
        logger: options.logger,
        upstream: {
          connectTimeoutMs: config.limits.upstreamConnectTimeoutMs,
          headersTimeoutMs: config.limits.upstreamHeadersTimeoutMs,
          bodyTimeoutMs: config.limits.upstreamBodyTimeoutMs,
          lookup: runner.createSafeLookup(policy) as never,
          checkRedirect: runner.createRedirectCheck(config.remoteUrl, policy),
        },
      });
    } catch (err) {
      await Promise.allSettled(middlewares.map((m) => m.close?.()));
      await chain.close();
      throw err;
    }
    return {
      url: server.url,
      port: server.port,
      chain: middlewares.map((m) => m.name),
      close: async () => {
        try {
          await server.close({ graceMs: config.limits.shutdownGraceMs });
        } finally {
          await chain.close();
        }
      },
    };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw portInUse(config.listen.port, config.name, err);
    throw err;
  }
}

export function portInUse(port: number, name: string, cause?: unknown): CliError {
  return new CliError(CliErrorCode.PortInUse, `port ${port} is already in use`, {
    fix: `Stop whatever listens on 127.0.0.1:${port} (e.g. \`lsof -i :${port}\`), or choose another port: \`bastion rm ${name}\` then \`bastion run <url> --name ${name} --port <free port>\``,
    exitCode: ExitCode.Conflict,
    cause,
  });
}

export { CliErrorCode };
