/**
 * Where the CLI keeps its files. One root directory (the "Bastion home"):
 *   BASTION_HOME, else $XDG_STATE_HOME/bastion, else ~/.local/state/bastion.
 *
 *   <home>/workloads/<name>/workload.json   definition (what `bastion run` was asked to do)
 *   <home>/workloads/<name>/state.json      runtime state (pid, port, url, status, reason)
 *   <home>/workloads/<name>/proxy.log       log of the detached proxy process
 *   <home>/tokens/                          encrypted token store (0700 / 0600)
 *   <home>/clients.json                     client-config entries written by `bastion client setup`
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface BastionPaths {
  readonly home: string;
  readonly workloadsDir: string;
  readonly tokensDir: string;
  readonly clientsFile: string;
  workloadDir(name: string): string;
  definitionFile(name: string): string;
  stateFile(name: string): string;
  logFile(name: string): string;
}

export function resolveHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BASTION_HOME) return env.BASTION_HOME;
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'bastion');
  return join(env.HOME || homedir(), '.local', 'state', 'bastion');
}

export function resolvePaths(env: NodeJS.ProcessEnv = process.env): BastionPaths {
  const home = resolveHome(env);
  const workloadsDir = join(home, 'workloads');
  return {
    home,
    workloadsDir,
    tokensDir: join(home, 'tokens'),
    clientsFile: join(home, 'clients.json'),
    workloadDir: (name) => join(workloadsDir, name),
    definitionFile: (name) => join(workloadsDir, name, 'workload.json'),
    stateFile: (name) => join(workloadsDir, name, 'state.json'),
    logFile: (name) => join(workloadsDir, name, 'proxy.log'),
  };
}
