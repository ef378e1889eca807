/**
 * Runs the MCP conformance suite's server scenarios (`conformance server`) against one URL in a child
 * Node 22 process and reads back each scenario's `checks.json`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConformanceError, ConformanceErrorCode } from './errors.js';
import { conformanceCli, findNode22 } from './node22.js';

export type CheckStatus = 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED';

export interface CheckResult {
  id: string;
  status: CheckStatus;
  errorMessage?: string | undefined;
}

export interface ScenarioResult {
  scenario: string;
  checks: CheckResult[];
  /** SUCCESS checks. */
  passed: number;
  /** FAILURE checks. */
  failed: number;
}

export interface SuiteRunOptions {
  /** The MCP endpoint under test. */
  url: string;
  /** `--spec-version` (e.g. `2025-06-18`, `2025-11-25`, `2026-07-28`). */
  specVersion: string;
  /** `--suite`: `all` (default: every scenario of the spec version, pending included) or `active`. */
  suite?: 'all' | 'active' | undefined;
  /** Only these scenarios (one suite process each); default: the whole active suite in one process. */
  scenarios?: readonly string[] | undefined;
  /** Per-scenario timeout of the suite, ms. Default 20 000. */
  scenarioTimeoutMs?: number | undefined;
  /** Node ≥ 22 binary. Default: {@link findNode22}. */
  node?: string | undefined;
  /** Receives the suite's stdout/stderr (default: discarded). */
  onOutput?: ((chunk: string) => void) | undefined;
}

const DIR = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/;

function run(node: string, args: string[], onOutput?: (chunk: string) => void): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    child.stdout.setEncoding('utf8').on('data', (c: string) => onOutput?.(c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => onOutput?.(c));
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
}

async function readResults(dir: string): Promise<ScenarioResult[]> {
  const out: ScenarioResult[] = [];
  for (const entry of await readdir(dir)) {
    const m = DIR.exec(entry);
    if (!m) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(join(dir, entry, 'checks.json'), 'utf8'));
    } catch {
      continue;
    }
    const checks: CheckResult[] = (Array.isArray(raw) ? raw : []).map((c: Record<string, unknown>) => ({
      id: String(c.id),
      status: String(c.status) as CheckStatus,
      errorMessage: typeof c.errorMessage === 'string' ? c.errorMessage : undefined,
    }));
    out.push({
      scenario: m[1]!,
      checks,
      passed: checks.filter((c) => c.status === 'SUCCESS').length,
      failed: checks.filter((c) => c.status === 'FAILURE').length,
    });
  }
  return out.sort((a, b) => a.scenario.localeCompare(b.scenario));
}

/** Run the suite; one result per scenario that ran (skipped scenarios are absent). */
export async function runServerSuite(options: SuiteRunOptions): Promise<ScenarioResult[]> {
  const node = options.node ?? findNode22();
  const cli = conformanceCli();
  const dir = await mkdtemp(join(tmpdir(), 'bastion-conformance-'));
  const timeout = String(options.scenarioTimeoutMs ?? 20_000);
  const base = [
    'server',
    '--url',
    options.url,
    '--suite',
    options.suite ?? 'all',
    '--spec-version',
    options.specVersion,
    '-o',
    dir,
    '--timeout',
    timeout,
  ];
  try {
    if (options.scenarios === undefined) {
      await run(node, [cli, ...base], options.onOutput);
    } else {
      for (const s of options.scenarios) await run(node, [cli, ...base, '--scenario', s], options.onOutput);
    }
    const results = await readResults(dir);
    if (results.length === 0) {
      throw new ConformanceError(
        ConformanceErrorCode.SuiteFailed,
        `the conformance suite wrote no results for ${options.url}`,
      );
    }
    return results;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
