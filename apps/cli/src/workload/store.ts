/**
 * Workload definitions and runtime state on disk, with detection and repair of stale state (a
 * status that says "running" while the process is gone).
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { CliError, CliErrorCode, notFoundError } from '../errors.js';
import { ensurePrivateDir, readJsonFile, writeJsonAtomic } from '../fs-util.js';
import type { BastionPaths } from '../paths.js';
import { isWorkloadProcess } from './process.js';
import {
  ACTIVE_STATUSES,
  type WorkloadDefinition,
  type WorkloadState,
  type WorkloadStatus,
  type WorkloadView,
} from './types.js';

export class WorkloadStore {
  constructor(readonly paths: BastionPaths) {}

  names(): string[] {
    let entries: string[];
    try {
      entries = readdirSync(this.paths.workloadsDir);
    } catch {
      return [];
    }
    return entries.filter((n) => existsSync(this.paths.definitionFile(n))).sort();
  }

  exists(name: string): boolean {
    return existsSync(this.paths.definitionFile(name));
  }

  readDefinition(name: string): WorkloadDefinition | undefined {
    try {
      return readJsonFile<WorkloadDefinition>(this.paths.definitionFile(name));
    } catch (err) {
      throw new CliError(CliErrorCode.State, `the definition of workload "${name}" is unreadable`, {
        fix: `Remove it with \`bastion rm ${name}\` and run it again`,
        cause: err,
      });
    }
  }

  getDefinition(name: string): WorkloadDefinition {
    const def = this.readDefinition(name);
    if (!def) throw notFoundError(name);
    return def;
  }

  writeDefinition(def: WorkloadDefinition): void {
    ensurePrivateDir(this.paths.workloadDir(def.name));
    writeJsonAtomic(this.paths.definitionFile(def.name), def);
  }

  readState(name: string): WorkloadState | undefined {
    try {
      return readJsonFile<WorkloadState>(this.paths.stateFile(name));
    } catch {
      return undefined; // a torn or corrupt state file means "unknown": treated as stopped
    }
  }

  writeState(name: string, state: Omit<WorkloadState, 'updatedAt'>): WorkloadState {
    const full: WorkloadState = { ...state, updatedAt: new Date().toISOString() };
    writeJsonAtomic(this.paths.stateFile(name), full);
    return full;
  }

  /** Merge a status change into the current state (keeps pid, port, url, startedAt). */
  updateStatus(name: string, status: WorkloadStatus, reason?: string): WorkloadState {
    const cur = this.readState(name);
    return this.writeState(name, { ...cur, status, reason });
  }

  /**
   * The current state, repaired when stale: an active status whose process is gone becomes `error`
   * with a reason telling the user how to recover; the file is rewritten so it is repaired once.
   */
  currentState(name: string): WorkloadState {
    const state = this.readState(name);
    if (!state) return { status: 'stopped', updatedAt: new Date(0).toISOString() };
    if (ACTIVE_STATUSES.has(state.status)) {
      const alive = state.pid !== undefined && isWorkloadProcess(state.pid, name);
      if (!alive) {
        const reason = `the proxy process${state.pid ? ` (pid ${state.pid})` : ''} exited unexpectedly; run \`bastion restart ${name}\` (details: \`bastion logs ${name}\`)`;
        return this.writeState(name, {
          status: 'error',
          reason,
          port: state.port,
          url: state.url,
          startedAt: state.startedAt,
        });
      }
    }
    return state;
  }

  view(name: string): WorkloadView {
    const def = this.getDefinition(name);
    const state = this.currentState(name);
    return {
      name,
      status: state.status,
      reason: state.reason,
      url: state.url ?? localUrl(def),
      remoteUrl: def.remoteUrl,
      transport: def.transport,
      port: state.port ?? def.port,
      pid: ACTIVE_STATUSES.has(state.status) ? state.pid : undefined,
      auth: def.auth.kind,
      startedAt: ACTIVE_STATUSES.has(state.status) ? state.startedAt : undefined,
      createdAt: def.createdAt,
      logFile: this.paths.logFile(name),
    };
  }

  remove(name: string): void {
    rmSync(this.paths.workloadDir(name), { recursive: true, force: true });
  }
}

/** The local MCP endpoint of a workload. */
export function localUrl(def: Pick<WorkloadDefinition, 'port' | 'transport'>): string {
  return `http://127.0.0.1:${def.port}${def.transport === 'sse' ? '/sse' : '/mcp'}`;
}
