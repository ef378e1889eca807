#!/usr/bin/env node
// Start-up time of the `bastion` CLI: wall time of `bastion --help` (and, for comparison, a bare
// `node -e ''` and `bastion list` on an empty home) over N runs, median and p95. The CLI keeps its
// imports lazy (every command is a separate chunk loaded on demand), so `--help` only loads commander
// and the command tree. Target: --help under 300 ms. Nothing here asserts timings.
//
//   node bench/cli-startup.mjs              # builds apps/cli if needed
//   BENCH_RUNS=50 node bench/cli-startup.mjs
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'apps', 'cli', 'dist', 'main.js');
if (!existsSync(bin)) {
  execFileSync('npx', ['tsup'], { cwd: join(root, 'apps', 'cli'), stdio: 'inherit' });
}

const runs = Number(process.env.BENCH_RUNS ?? 20);
const home = mkdtempSync(join(tmpdir(), 'bastion-bench-'));
const env = { ...process.env, BASTION_HOME: home, NO_COLOR: '1' };

function measure(args) {
  const times = [];
  for (let i = 0; i < runs + 2; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    if (i >= 2) times.push(ms); // two warm-up runs (disk cache)
  }
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  return { median: at(0.5), p95: at(0.95), min: times[0] };
}

const rows = [
  ['node -e ""', measure(['-e', ''])],
  ['bastion --help', measure([bin, '--help'])],
  ['bastion --version', measure([bin, '--version'])],
  ['bastion list (empty)', measure([bin, 'list'])],
];
rmSync(home, { recursive: true, force: true });

console.log(`CLI start-up, ${runs} runs each (wall time of the whole process)`);
console.log(`${'command'.padEnd(24)}${'median'.padStart(10)}${'p95'.padStart(10)}${'min'.padStart(10)}`);
for (const [name, r] of rows) {
  console.log(
    `${name.padEnd(24)}${`${r.median.toFixed(1)} ms`.padStart(10)}${`${r.p95.toFixed(1)} ms`.padStart(10)}${`${r.min.toFixed(1)} ms`.padStart(10)}`,
  );
}
const help = rows[1][1].median;
const base = rows[0][1].median;
console.log(
  `\n--help: ${help.toFixed(1)} ms median (${(help - base).toFixed(1)} ms over a bare node start); target < 300 ms`,
);
