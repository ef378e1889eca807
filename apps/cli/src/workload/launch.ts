/**
 * Start a workload's proxy as a detached process (`bastion __serve <name>`) and wait until it reports
 * a status, or fails.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, realpathSync } from 'node:fs';
import { CliError, CliErrorCode, ExitCode } from '../errors.js';
import { ensurePrivateDir } from '../fs-util.js';
import { portInUse } from '../serve/start-proxy.js';
import { isPortFree } from './ports.js';
import type { WorkloadStore } from './store.js';
import type { WorkloadDefinition, WorkloadState } from './types.js';

const SETTLED = new Set(['running', 'auth_retrying', 'unauthenticated', 'error', 'stopped']);

/** The script to re-execute for the detached child (this very CLI). */
function selfScript(): string {
  const script = process.argv[1];
  if (!script) throw new Error('cannot locate the bastion script');
  return realpathSync(script);
}

export async function ensurePortFree(def: WorkloadDefinition): Promise<void> {
  if (!(await isPortFree(def.port))) throw portInUse(def.port, def.name);
}

export async function launchDetached(
  store: WorkloadStore,
  def: WorkloadDefinition,
  options: { logLevel: string; timeoutMs?: number },
): Promise<WorkloadState> {
  await ensurePortFree(def);
  const logFile = store.paths.logFile(def.name);
  ensurePrivateDir(store.paths.workloadDir(def.name));
  const fd = openSync(logFile, 'a', 0o600);
  const before = Date.now();
  let exitCode: number | null | undefined;
  const child = spawn(
    process.execPath,
    [...process.execArgv, selfScript(), '--log-level', options.logLevel, '__serve', def.name],
    { detached: true, stdio: ['ignore', fd, fd], env: process.env },
  );
  closeSync(fd);
  if (child.pid !== undefined)
    store.writeState(def.name, { status: 'starting', pid: child.pid, port: def.port });
  child.on('exit', (code) => {
    exitCode = code;
  });
  child.unref();
  const deadline = before + (options.timeoutMs ?? 30_000);
  for (;;) {
    const st = store.readState(def.name);
    if (st && st.pid === child.pid && SETTLED.has(st.status)) return st;
    if (st && st.status === 'error' && Date.parse(st.updatedAt) >= before - 1000) return st;
    if (exitCode !== undefined) {
      const after = store.readState(def.name);
      if (after && after.status === 'error') return after;
      throw new CliError(
        CliErrorCode.StartFailed,
        `the proxy process exited (code ${exitCode}) before it was ready: ${lastLogLine(logFile)}`,
        {
          fix: `See \`bastion logs ${def.name}\``,
        },
      );
    }
    if (Date.now() > deadline) {
      throw new CliError(CliErrorCode.StartFailed, 'the proxy process did not report ready in time', {
        fix: `See \`bastion logs ${def.name}\` and \`bastion status ${def.name}\``,
        exitCode: ExitCode.Error,
      });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function lastLogLine(file: string): string {
  try {
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const last = lines[lines.length - 1] ?? '';
    try {
      const parsed = JSON.parse(last) as { msg?: string };
      return parsed.msg ?? last;
    } catch {
      return last;
    }
  } catch {
    return 'no log';
  }
}
