/**
 * `bastion run --stdio <url>` (an in-process proxy on an ephemeral loopback port, bridged to stdio)
 * and `bastion stdio <name>` (bridge to an already running workload). stdout carries MCP only.
 */
import { CliError, CliErrorCode, ExitCode } from '../errors.js';
import { createLogger } from '../serve/logger.js';
import { serveWorkload } from '../serve/serve.js';
import { runStdioBridge } from '../serve/stdio-bridge.js';
import { ACTIVE_STATUSES, type WorkloadDefinition } from '../workload/types.js';
import { type CommandLike, type Context, context } from './context.js';

export async function runStdio(
  def: WorkloadDefinition,
  ctx: Context,
  opts: { browser: boolean; loginTimeoutSeconds: number; logFile?: string | undefined },
): Promise<void> {
  const logger = createLogger(ctx.globals.logLevel, opts.logFile ? { file: opts.logFile } : { fd: 2 });
  if (def.auth.kind === 'oauth') {
    const { ensureLoggedIn } = await import('../auth/login.js');
    await ensureLoggedIn(def, ctx, opts);
  }
  const served = await serveWorkload(def, {
    paths: ctx.paths,
    store: ctx.store,
    logger,
    port: 0,
    writeState: false,
    interactive: { browser: opts.browser, loginTimeoutSeconds: opts.loginTimeoutSeconds },
  });
  try {
    await runStdioBridge({ url: served.proxy.url, transport: def.transport, logger });
  } finally {
    await served.close();
    logger.flush();
  }
}

export async function stdioCommand(
  name: string,
  opts: { logFile?: string },
  cmd: CommandLike,
): Promise<void> {
  const ctx = context(cmd);
  const def = ctx.store.getDefinition(name);
  const view = ctx.store.view(name);
  const logger = createLogger(ctx.globals.logLevel, opts.logFile ? { file: opts.logFile } : { fd: 2 });
  if (!ACTIVE_STATUSES.has(view.status)) {
    throw new CliError(CliErrorCode.NotRunning, `workload "${name}" is ${view.status}`, {
      fix: `Start it with \`bastion restart ${name}\` (or use \`bastion run --stdio ${def.remoteUrl}\`)`,
      exitCode: ExitCode.NotFound,
    });
  }
  await runStdioBridge({ url: view.url, transport: def.transport, logger });
  logger.flush();
}
