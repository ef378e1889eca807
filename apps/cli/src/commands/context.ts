/** Things every command needs: paths, the workload store, global options. */
import { resolvePaths, type BastionPaths } from '../paths.js';
import { WorkloadStore } from '../workload/store.js';

export interface GlobalOptions {
  logLevel: string;
}

export interface CommandLike {
  optsWithGlobals(): Record<string, unknown>;
}

export interface Context {
  paths: BastionPaths;
  store: WorkloadStore;
  globals: GlobalOptions;
}

export function context(cmd: CommandLike): Context {
  const paths = resolvePaths();
  const all = cmd.optsWithGlobals();
  return {
    paths,
    store: new WorkloadStore(paths),
    globals: { logLevel: typeof all.logLevel === 'string' ? all.logLevel : 'info' },
  };
}

/** Write a line to stdout. */
export const out = (line = '') => process.stdout.write(`${line}\n`);
/** Write a line to stderr (progress and hints that must not pollute stdout). */
export const err = (line = '') => process.stderr.write(`${line}\n`);
