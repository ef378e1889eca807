/** `bastion stop <name...>`: SIGTERM, wait, SIGKILL after the timeout; state becomes `stopped`. */
import { isWorkloadProcess, signalProcess, waitForExit } from '../workload/process.js';
import type { WorkloadStore } from '../workload/store.js';
import { type CommandLike, context, out } from './context.js';

/** Stop the workload's process if it runs. Returns true when a process was stopped. */
export async function stopWorkload(store: WorkloadStore, name: string, timeoutMs = 30_000): Promise<boolean> {
  store.getDefinition(name); // not found → error
  const state = store.readState(name);
  const pid = state?.pid;
  let stopped = false;
  if (pid !== undefined && isWorkloadProcess(pid, name)) {
    signalProcess(pid, 'SIGTERM');
    if (!(await waitForExit(pid, timeoutMs))) {
      signalProcess(pid, 'SIGKILL');
      await waitForExit(pid, 5_000);
    }
    stopped = true;
  }
  const after = store.readState(name);
  store.writeState(name, {
    status: 'stopped',
    port: after?.port ?? state?.port,
    url: after?.url ?? state?.url,
  });
  return stopped;
}

export async function stopCommand(
  names: string[],
  opts: { timeout: number },
  cmd: CommandLike,
): Promise<void> {
  const { store } = context(cmd);
  for (const name of names) {
    const wasRunning = await stopWorkload(store, name, opts.timeout * 1000);
    out(wasRunning ? `Stopped ${name}.` : `${name} was not running.`);
  }
}
