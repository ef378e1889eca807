/**
 * Start the local proxy for a RunConfig through the runner's `startProxy` — the proxy runner's own
 * code path (secrets, SSRF-checked lookup and redirect policy, `HTTPS_PROXY`, metrics listener). The
 * CLI's upstream credential (OAuth session or static token) goes in as `innerMiddlewares`, innermost
 * (right before the forwarder), so only requests that passed every configured layer use the token.
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
  const { startProxy } = await import('@bastion-mcp/runner');
  try {
    const p = await startProxy(config, {
      env: options.env ?? process.env,
      logger: options.logger,
      innerMiddlewares: options.innerMiddlewares ?? [],
    });
    return { url: p.url, port: p.port, chain: p.chain, close: () => p.close() };
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
