/**
 * `bastion __serve <name>`: the detached proxy process started by `run`/`restart`. Its stdout and
 * stderr are the workload's log file; it writes `state.json` and stops gracefully on SIGTERM.
 */
import { resolvePaths } from '../paths.js';
import { WorkloadStore } from '../workload/store.js';
import { createLogger } from './logger.js';
import { serveWorkload, untilSignal } from './serve.js';

export async function serveCommand(
  name: string,
  _opts: unknown,
  cmd: { optsWithGlobals(): { logLevel?: string } },
) {
  const paths = resolvePaths();
  const store = new WorkloadStore(paths);
  const def = store.getDefinition(name);
  const logger = createLogger(cmd.optsWithGlobals().logLevel ?? def.logLevel, { fd: 1 });
  process.on('uncaughtException', (err) => {
    logger.error(
      { event: 'crash', err: { message: err.message, stack: err.stack } },
      'Proxy process crashed',
    );
    store.writeState(name, {
      status: 'error',
      reason: `crashed: ${err.message}; run \`bastion restart ${name}\``,
    });
    process.exit(1);
  });
  let served: Awaited<ReturnType<typeof serveWorkload>>;
  try {
    served = await serveWorkload(def, { paths, store, logger, writeState: true });
  } catch {
    process.exitCode = 1;
    return; // already logged and recorded in state.json
  }
  // `bastion login` / `logout` in another process: re-read the token store.
  process.on('SIGUSR2', () => {
    const cred = served.credential as { reload?: () => Promise<void> } | undefined;
    cred?.reload?.().catch((e: Error) => logger.warn({ event: 'reload_failed' }, e.message));
  });
  await untilSignal(() => served.close());
  logger.flush();
}
