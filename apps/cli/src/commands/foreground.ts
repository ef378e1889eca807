/** `bastion run --foreground` / `restart --foreground`: serve in this process until Ctrl+C. */
import { createLogger } from '../serve/logger.js';
import { serveWorkload, untilSignal } from '../serve/serve.js';
import { ensurePortFree } from '../workload/launch.js';
import type { WorkloadDefinition } from '../workload/types.js';
import { type Context, err } from './context.js';
import { ACTIVE_STATUSES } from '../workload/types.js';
import { CliError, CliErrorCode, ExitCode } from '../errors.js';

export async function runForeground(
  def: WorkloadDefinition,
  ctx: Context,
  interactive: { browser: boolean; loginTimeoutSeconds: number },
): Promise<void> {
  const current = ctx.store.currentState(def.name);
  if (ACTIVE_STATUSES.has(current.status)) {
    throw new CliError(
      CliErrorCode.Exists,
      `workload "${def.name}" is already ${current.status} (pid ${current.pid})`,
      {
        fix: `Stop it first with \`bastion stop ${def.name}\``,
        exitCode: ExitCode.Conflict,
      },
    );
  }
  await ensurePortFree(def);
  const logger = createLogger(ctx.globals.logLevel, { fd: 2 });
  const served = await serveWorkload(def, {
    paths: ctx.paths,
    store: ctx.store,
    logger,
    writeState: true,
    interactive,
  });
  err(`${def.name} is serving ${served.proxy.url} (Ctrl+C to stop)`);
  await untilSignal(() => served.close());
}
