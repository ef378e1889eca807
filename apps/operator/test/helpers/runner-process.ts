/**
 * Runs the REAL `bastion-proxyrunner` binary (apps/proxyrunner/dist/main.js) the way the pod would:
 * the RunConfig file the operator wrote into the ConfigMap, and the Deployment's secretKeyRef env
 * resolved from the Secrets (what the kubelet does).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP_DIR } from './cluster.js';

const ROOT = join(APP_DIR, '..', '..');
export const RUNNER_BIN = join(ROOT, 'apps/proxyrunner/dist/main.js');

/** Build the proxy runner (and what it loads) when CI has not already. */
export function ensureRunnerBuilt(): void {
  if (existsSync(RUNNER_BIN) && existsSync(join(ROOT, 'packages/runner/dist/index.js'))) return;
  execFileSync('npx', ['nx', 'run', '@bastion-mcp/proxyrunner:build', '--outputStyle=static'], {
    cwd: ROOT,
    stdio: 'ignore',
    env: { ...process.env, CI: 'true', NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
  });
}

export interface Runner {
  readonly child: ChildProcess;
  listening(): Promise<Record<string, unknown>>;
  output(): string;
  stop(): Promise<void>;
}

export function startRunner(runConfigJson: string, env: Record<string, string>): Runner {
  const dir = mkdtempSync(join(tmpdir(), 'bastion-op-runner-'));
  const file = join(dir, 'runconfig.json');
  writeFileSync(file, runConfigJson);
  const child = spawn(process.execPath, [RUNNER_BIN, '--config', file], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  return {
    child,
    output: () => out,
    listening: async () => {
      for (;;) {
        for (const line of out.split('\n')) {
          try {
            const l = JSON.parse(line) as Record<string, unknown>;
            if (l.msg === 'Listening') return l;
          } catch {
            /* not JSON */
          }
        }
        if (child.exitCode !== null) throw new Error(`proxy runner exited: ${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
