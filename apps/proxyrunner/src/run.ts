/**
 * The proxy runner's life cycle: flags → RunConfig → secrets → `startProxy` → serve until SIGTERM or
 * SIGINT → graceful drain within `limits.shutdownGraceMs`. Returns the process exit code.
 */
import {
  loadRunConfigFile,
  type RunConfig,
  type RunConfigIssue,
  type RunningProxy,
  resolveSecrets,
  startProxy,
} from '@bastion-mcp/runner';
import type { Logger } from 'pino';
import { parseCli } from './cli.js';
import { ExitCode } from './exit-codes.js';
import { createLogger } from './logger.js';

/** What the process gives the runner (so tests can run it in-process too). */
export interface RunEnvironment {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly version: string;
  /** Where usage/help text goes. */
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Registers a handler for SIGTERM and SIGINT. */
  readonly onSignal: (handler: (signal: NodeJS.Signals) => void) => void;
  /** Log destination. Default stdout. */
  readonly logDestination?: NodeJS.WritableStream | undefined;
}

const CONFIG_ERROR_CODES = new Set([
  'ERR_BASTION_RUNCONFIG_INVALID',
  'ERR_BASTION_SECRET_UNAVAILABLE',
  'ERR_BASTION_REMOTE_URL_REFUSED',
]);

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Exit code for a start-up failure: configuration problems 2, everything else 1. */
export function exitCodeFor(err: unknown): ExitCode {
  const code = codeOf(err);
  if (code !== undefined && CONFIG_ERROR_CODES.has(code)) return ExitCode.Config;
  if (err instanceof TypeError) return ExitCode.Config; // an option a library refused
  return ExitCode.Runtime;
}

/** One clear, single-line message for a start-up failure (never a secret value: errors carry none). */
export function describeFailure(err: unknown): string {
  const issues = (err as { issues?: readonly RunConfigIssue[] })?.issues;
  const source = (err as { source?: string })?.source;
  if (codeOf(err) === 'ERR_BASTION_RUNCONFIG_INVALID' && Array.isArray(issues)) {
    const where = source ? ` (${source})` : '';
    return `Invalid RunConfig${where}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`;
  }
  if (codeOf(err) === 'ERR_BASTION_SECRET_UNAVAILABLE') {
    return `Secret unavailable: ${(err as Error).message}`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

function fatal(logger: Logger, err: unknown, msg: string): void {
  const issues = (err as { issues?: unknown })?.issues;
  logger.fatal(
    {
      code: codeOf(err),
      ...(Array.isArray(issues) ? { issues } : {}),
      ...(exitCodeFor(err) === ExitCode.Runtime && err instanceof Error
        ? { err: { type: err.name, message: err.message, stack: err.stack } }
        : {}),
    },
    msg,
  );
}

function describeStart(config: RunConfig, proxy: RunningProxy) {
  return {
    url: proxy.url,
    metricsUrl: proxy.metricsUrl,
    remote: new URL(config.remoteUrl).origin,
    transport: config.transport,
    auth: config.auth.mode,
    chain: proxy.chain,
  };
}

export async function run(environment: RunEnvironment): Promise<number> {
  const parsed = parseCli(environment.argv, environment.env, environment.version);
  if (parsed.kind === 'exit') {
    (parsed.error ? environment.stderr : environment.stdout)(parsed.output);
    return parsed.code;
  }
  const { options } = parsed;
  const logger = createLogger(options.logLevel, environment.logDestination);

  if (!options.config) {
    logger.fatal(
      { code: 'ERR_BASTION_PROXYRUNNER_NO_CONFIG' },
      'No RunConfig: pass --config <file> or set BASTION_RUNCONFIG',
    );
    return ExitCode.Config;
  }

  let config: RunConfig;
  try {
    config = await loadRunConfigFile(options.config);
  } catch (err) {
    fatal(logger, err, describeFailure(err));
    return exitCodeFor(err);
  }

  if (options.check) {
    try {
      await resolveSecrets(config, environment.env);
    } catch (err) {
      fatal(logger, err, describeFailure(err));
      return exitCodeFor(err);
    }
    logger.info({ server: config.name, source: options.config }, 'RunConfig is valid');
    return ExitCode.Ok;
  }

  const log = logger.child({ server: config.name });
  if (config.auth.mode === 'anonymous') {
    log.warn(
      { listen: config.listen.host },
      'Inbound authentication is off (auth.mode "anonymous"): every client reaching this port is accepted',
    );
  }

  let proxy: RunningProxy;
  try {
    proxy = await startProxy(config, { env: environment.env, logger: log, accessLog: true });
  } catch (err) {
    fatal(log, err, `Cannot start: ${describeFailure(err)}`);
    return exitCodeFor(err);
  }
  log.info(describeStart(config, proxy), 'Listening');

  return new Promise<number>((resolve) => {
    let stopping = false;
    environment.onSignal((signal) => {
      if (stopping) {
        log.warn({ signal }, 'Second signal during shutdown: exiting now');
        resolve(ExitCode.Runtime);
        return;
      }
      stopping = true;
      const graceMs = config.limits.shutdownGraceMs;
      log.info({ signal, graceMs, inFlight: proxy.server.handler.inFlight }, 'Shutting down');
      // The proxy aborts what is left at graceMs; this is the last resort if closing itself hangs.
      const watchdog = setTimeout(() => {
        log.fatal({ graceMs }, 'Shutdown deadline exceeded');
        resolve(ExitCode.Runtime);
      }, graceMs + 5_000);
      watchdog.unref();
      proxy.close().then(
        () => {
          clearTimeout(watchdog);
          log.info({ signal }, 'Stopped');
          resolve(ExitCode.Ok);
        },
        (err: unknown) => {
          clearTimeout(watchdog);
          fatal(log, err, 'Shutdown failed');
          resolve(ExitCode.Runtime);
        },
      );
    });
  });
}
