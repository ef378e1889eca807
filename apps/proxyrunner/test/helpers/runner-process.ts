/**
 * Runs the REAL built `bastion-proxyrunner` binary as a child process (apps/proxyrunner/dist/main.js)
 * and reads its JSON log lines. CI builds everything before the tests; when run locally without a
 * build, `ensureBuilt()` builds the proxy runner and the packages it loads (nx, once).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const BIN = join(ROOT, 'apps/proxyrunner/dist/main.js');
export const EXAMPLES = join(ROOT, 'examples');

export function ensureBuilt(): void {
  const needed = [
    BIN,
    join(ROOT, 'packages/runner/dist/index.js'),
    join(ROOT, 'packages/testkit/dist/index.js'),
  ];
  if (needed.every((f) => existsSync(f))) return;
  execFileSync('npx', ['nx', 'run', '@bastion-mcp/proxyrunner:build', '--outputStyle=static'], {
    cwd: ROOT,
    stdio: 'ignore',
    env: { ...process.env, CI: 'true', NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
  });
}

export type LogLine = Record<string, unknown> & { level?: string; msg?: string };

export interface RunnerProcess {
  readonly child: ChildProcess;
  /** Every stdout line parsed as JSON (non-JSON lines kept as `{ raw }`). */
  readonly lines: LogLine[];
  /** Raw stdout + stderr text. */
  output(): string;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
  /** Resolves with the first line matching, or rejects when the process exits first. */
  waitFor(pred: (l: LogLine) => boolean): Promise<LogLine>;
  /** The `Listening` line (url, metricsUrl, chain …). */
  listening(): Promise<LogLine>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startRunner(args: string[], env: Record<string, string> = {}): RunnerProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  let out = '';
  let partial = '';
  const waiters = new Set<() => void>();
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) {
      if (!p.trim()) continue;
      try {
        lines.push(JSON.parse(p) as LogLine);
      } catch {
        lines.push({ raw: p });
      }
    }
    for (const w of [...waiters]) w();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => {
    done = true;
    for (const w of [...waiters]) w();
  });
  const waitFor = (pred: (l: LogLine) => boolean) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const hit = lines.find(pred);
        if (hit) {
          waiters.delete(check);
          resolve(hit);
        } else if (done) {
          waiters.delete(check);
          reject(new Error(`runner exited before the expected log line; output:\n${out}`));
        }
      };
      waiters.add(check);
      check();
    });
  return {
    child,
    lines,
    output: () => out,
    exited,
    waitFor,
    listening: () => waitFor((l) => l.msg === 'Listening'),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Writes a RunConfig object to a fresh temporary file and returns its path. */
export function writeConfig(config: unknown, name = 'runconfig.json'): string {
  const dir = mkdtempSync(join(tmpdir(), 'bastion-proxyrunner-'));
  const file = join(dir, name);
  writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  return file;
}
