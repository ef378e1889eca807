/**
 * The MCP conformance suite's client `auth` scenarios (real `@modelcontextprotocol/conformance`, Node
 * 22) against `bastion run --stdio`'s OAuth client through dist/client-wrapper.js (SDK client on the
 * stdio bridge; logins auto-approved through the CLI's test-only BASTION_TEST_AUTO_AUTHORIZE=1).
 * The set of passing scenarios is pinned: a scenario that stops passing is a regression, one that
 * starts passing must be added here. Needs the built workspace (apps/cli/dist, this package's dist).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { conformanceCli, findNode22 } from '../src/node22.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const WRAPPER = join(ROOT, 'dist', 'client-wrapper.js');
const BASTION = join(ROOT, '..', '..', 'apps', 'cli', 'dist', 'main.js');

/** Scenarios bastion's OAuth client passes (0.2.0-alpha.12): all 33 client `auth` scenarios. */
const PASSING = [
  'auth/2025-03-26-oauth-endpoint-fallback',
  'auth/2025-03-26-oauth-metadata-backcompat',
  'auth/authorization-server-migration',
  'auth/basic-cimd',
  'auth/client-credentials-basic',
  'auth/client-credentials-jwt',
  'auth/dpop',
  'auth/dpop-nonce',
  'auth/enterprise-managed-authorization',
  'auth/iss-normalized',
  'auth/iss-not-advertised',
  'auth/iss-supported',
  'auth/iss-supported-missing',
  'auth/iss-unexpected',
  'auth/iss-wrong-issuer',
  'auth/metadata-default',
  'auth/metadata-issuer-mismatch',
  'auth/metadata-var1',
  'auth/metadata-var2',
  'auth/metadata-var3',
  'auth/offline-access-not-supported',
  'auth/offline-access-scope',
  'auth/pre-registration',
  'auth/resource-mismatch',
  'auth/scope-from-scopes-supported',
  'auth/scope-from-www-authenticate',
  'auth/scope-omitted-when-undefined',
  'auth/scope-retry-limit',
  'auth/scope-step-up',
  'auth/token-endpoint-auth-basic',
  'auth/token-endpoint-auth-none',
  'auth/token-endpoint-auth-post',
  'auth/wif-jwt-bearer',
];

function run(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(findNode22(), [conformanceCli(), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '', BASTION_CLI_BIN: BASTION },
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out }));
  });
}

interface Outcome {
  scenario: string;
  exitCode: number | null;
  failed: string[];
}

async function runScenario(scenario: string, dir: string): Promise<Outcome> {
  const command = `${process.execPath} ${WRAPPER}`;
  const { code } = await run([
    'client',
    '--command',
    command,
    '--scenario',
    scenario,
    '--force',
    '-o',
    dir,
    '--timeout',
    '30000',
  ]);
  const base = join(dir, scenario.split('/')[0] as string);
  const name = scenario.split('/')[1] as string;
  const entry = (await readdir(base).catch(() => [] as string[])).find((e) => e.startsWith(`${name}-`));
  const checks = entry
    ? (JSON.parse(await readFile(join(base, entry, 'checks.json'), 'utf8')) as {
        id: string;
        status: string;
      }[])
    : [];
  return { scenario, exitCode: code, failed: checks.filter((c) => c.status === 'FAILURE').map((c) => c.id) };
}

describe('conformance client auth scenarios through bastion', () => {
  it('passes the pinned set of auth scenarios', async () => {
    expect(existsSync(WRAPPER)).toBe(true);
    expect(existsSync(BASTION)).toBe(true);
    const listed = (await run(['list', '--client'])).out.match(/auth\/[a-z0-9-]+/g) ?? [];
    expect(listed.length).toBeGreaterThanOrEqual(PASSING.length);
    const dir = await mkdtemp(join(tmpdir(), 'bastion-client-auth-'));
    const outcomes: Outcome[] = [];
    try {
      const queue = [...listed];
      const worker = async () => {
        for (let s = queue.shift(); s !== undefined; s = queue.shift())
          outcomes.push(await runScenario(s, dir));
      };
      await Promise.all([worker(), worker(), worker()]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const passed = outcomes
      .filter((o) => o.exitCode === 0 && o.failed.length === 0)
      .map((o) => o.scenario)
      .sort();
    expect(passed).toEqual(PASSING);
  }, 300_000);
});
