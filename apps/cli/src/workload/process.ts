import { readFileSync } from 'node:fs';

/** Whether `pid` is a live process (EPERM means it exists but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether `pid` is the proxy process of workload `name`: alive, and (where /proc exists) its command
 * line is `bastion __serve <name>`, so a recycled pid is not mistaken for our proxy.
 */
export function isWorkloadProcess(pid: number, name: string): boolean {
  if (!isProcessAlive(pid)) return false;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return true; // no procfs (macOS): trust the pid
  }
  const args = cmdline.split('\0');
  const i = args.indexOf('__serve');
  return i >= 0 && args[i + 1] === name;
}

/** Send a signal; false when the process does not exist. */
export function signalProcess(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Wait until `pid` exits, up to `timeoutMs`. Resolves true when it is gone. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isProcessAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !isProcessAlive(pid);
}
