/** `bastion proxy --config run.yaml`: any RunConfig in the foreground, through the runner's startProxy. */
import { isAbsolute, resolve } from 'node:path';
import { createLogger } from '../serve/logger.js';
import { untilSignal } from '../serve/serve.js';
import { startRunConfig } from '../serve/start-proxy.js';
import { type CommandLike, context, err } from './context.js';

export async function proxyCommand(opts: { config: string }, cmd: CommandLike): Promise<void> {
  const { globals } = context(cmd);
  const { loadRunConfigFile } = await import('@bastion-mcp/runner');
  const file = isAbsolute(opts.config) ? opts.config : resolve(opts.config);
  const config = await loadRunConfigFile(file);
  const logger = createLogger(globals.logLevel, { fd: 2 });
  const proxy = await startRunConfig(config, { logger });
  err(`Proxy ${config.name} for ${config.remoteUrl} listening on ${proxy.url} (Ctrl+C to stop)`);
  await untilSignal(() => proxy.close());
  logger.flush();
}
