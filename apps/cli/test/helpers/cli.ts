/**
 * Drive the BUILT `bastion` binary as a user would: child processes with a private HOME and
 * BASTION_HOME. The binary is built once (tsup) when dist is missing or older than the sources.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(CLI_ROOT, 'dist', 'main.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Build dist/ when it is missing or stale (CI builds everything first, so this is a no-op there). */
export function ensureBuilt(): void {
  if (existsSync(BIN) && statSync(BIN).mtimeMs >= newestMtime(join(CLI_ROOT, 'src'))) return;
  execFileSync(
    process.execPath,
    [join(CLI_ROOT, '..', '..', 'node_modules', 'tsup', 'dist', 'cli-default.js')],
    {
      cwd: CLI_ROOT,
      stdio: 'ignore',
    },
  );
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Sandbox {
  readonly dir: string;
  readonly home: string;
  readonly bastionHome: string;
  readonly env: NodeJS.ProcessEnv;
  run(args: string[], options?: RunOptions): Promise<CliResult>;
  /** Kill every proxy process still recorded in the sandbox, remove the directory. */
  cleanup(): void;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
  /** Called with each stderr chunk as it arrives (e.g. to read the login URL). */
  onStderr?: (chunk: string, all: string) => void;
}

export function createSandbox(): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'bastion-cli-'));
  const home = join(dir, 'home');
  const bastionHome = join(dir, 'bastion');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    BASTION_HOME: bastionHome,
    XDG_CONFIG_HOME: join(home, '.config'),
    BASTION_TOKEN_STORE: 'file',
    NO_COLOR: '1',
    BROWSER: '/bin/false',
  };
  return {
    dir,
    home,
    bastionHome,
    env,
    run: (args, options = {}) => runCli(args, { ...options, env: { ...env, ...options.env } }),
    cleanup() {
      const wl = join(bastionHome, 'workloads');
      if (existsSync(wl)) {
        for (const name of readdirSync(wl)) {
          try {
            const st = JSON.parse(readFileSync(join(wl, name, 'state.json'), 'utf8')) as { pid?: number };
            if (st.pid) process.kill(st.pid, 'SIGKILL');
          } catch {
            // not running
          }
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function runCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      const s = d.toString();
      stderr += s;
      options.onStderr?.(s, stderr);
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bastion ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

/** The local URL printed by `bastion run`. */
export function printedUrl(stdout: string): string {
  const m = /is \w+ at (http:\/\/127\.0\.0\.1:\d+\/\w+)/.exec(stdout);
  if (!m?.[1]) throw new Error(`no URL in output: ${stdout}`);
  return m[1];
}
