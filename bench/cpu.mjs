#!/usr/bin/env node
// CPU cost per request of the proxy, per configuration and per chain layer: the proxy runs in its own
// process; we sample its process.cpuUsage() and the number of requests its server received right
// before and after a fixed-concurrency window, so µs of CPU per request = Δcpu / Δrequests. Unlike
// req/s, this hardly moves when other processes compete for the cores, so it is the figure to compare
// across commits. Each variant is measured BENCH_ROUNDS times (rounds interleave the variants) and
// the median is printed.
//
// Variants (BENCH_VARIANTS, comma-separated; default all):
//   passthrough   proxy-core, no middleware
//   none          the runner's chain with anonymous auth only (runner overhead baseline)
//   auth | audit | tools | telemetry   that one layer alone (anonymous auth unless "auth")
//   auth+authz    JWT + Cedar (authz cost = this − auth)
//   full          the benchmark's full chain (auth, audit, tools, telemetry, authz)
//
//   node bench/cpu.mjs
//   BENCH_MODES=json BENCH_VARIANTS=passthrough,full BENCH_CPU_PROF=/tmp/prof node bench/cpu.mjs
//     BENCH_CPU_PROF writes a V8 CPU profile (.cpuprofile) of every proxy process into that directory.
//   BENCH_BASELINE=/path/to/other/checkout node bench/cpu.mjs
//     also runs every variant from that checkout's bench/ and builds (same harness, interleaved rounds),
//     printed as "<variant>@base": a before/after comparison that machine noise hits equally.
//   BENCH_UPSTREAM=remote node bench/cpu.mjs
//     against the remote stand-in (bench/lib/upstreams.mjs) instead of the SDK server: less CPU
//     contention, so lower and steadier figures (not comparable with sdk runs).
// The minimum over rounds is printed next to the median: on a shared machine the least-disturbed
// round is the best estimate of the intrinsic cost.
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ECHO_CALL_BODY, echoHeadersFor, fmt, runLoad } from './lib/load.mjs';
import { cpuPerRequest, spawnRole } from './lib/spawn.mjs';
import { spawnUpstream, upstreamKinds } from './lib/upstreams.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
if (!existsSync(`${root}/packages/runner/dist/index.js`)) {
  execSync('npx nx run-many -t build --outputStyle=static', { cwd: root, stdio: 'inherit' });
}

const durationMs = Number(process.env.BENCH_DURATION_MS ?? 3000);
const warmupMs = Number(process.env.BENCH_WARMUP_MS ?? 1000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
const modes = (process.env.BENCH_MODES ?? 'json,sse').split(',');
// One upstream per run (BENCH_UPSTREAM=sdk|remote, default sdk: the figures in bench/RESULTS.md).
const [upstreamKind] = upstreamKinds('sdk');
const ALL = ['passthrough', 'none', 'auth', 'audit', 'tools', 'telemetry', 'auth+authz', 'full'];
const baseline = process.env.BENCH_BASELINE;
const chosen = (process.env.BENCH_VARIANTS ?? ALL.join(',')).split(',');
const variants = baseline ? chosen.flatMap((v) => [`${v}@base`, v]) : chosen;
const profDir = process.env.BENCH_CPU_PROF;
if (profDir) mkdirSync(profDir, { recursive: true });
const execArgv = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];

const body = ECHO_CALL_BODY;

function spawnVariant(variant, upstreamUrl) {
  const [v, from] = variant.split('@');
  const dir = from === 'base' ? `${baseline}/bench` : undefined;
  if (v === 'passthrough') return spawnRole('proxy', [upstreamUrl], {}, execArgv, dir);
  const layers = v === 'full' ? undefined : v === 'none' ? 'none' : v.replace('+', ',');
  return spawnRole('full-chain', layers ? [upstreamUrl, layers] : [upstreamUrl], {}, execArgv, dir);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

console.log(
  `Bastion CPU per request — node ${process.version}, concurrency ${concurrency}, ${rounds} × ${durationMs} ms per variant (median)`,
);
console.log('mode  variant             CPU/req (median)  (min)   vs none   req/s (noisy)');
for (const mode of modes) {
  const upstream = await spawnUpstream(upstreamKind, mode);
  const roles = new Map();
  for (const v of variants) roles.set(v, await spawnVariant(v, upstream.url));
  const samples = new Map(variants.map((v) => [v, { cpu: [], rps: [] }]));
  const dead = new Set();
  for (let r = 0; r < rounds; r++) {
    for (const v of variants) {
      const role = roles.get(v);
      if (dead.has(v)) continue;
      let res;
      try {
        res = await runLoad({
          url: role.url,
          body,
          headers: echoHeadersFor(role),
          concurrency,
          durationMs,
          warmupMs: r === 0 ? warmupMs * 2 : warmupMs,
          onMeasureStart: () => role.cpu(),
          onMeasureEnd: () => role.cpu(),
        });
      } catch (err) {
        // A role process that died (reported by spawnRole) is left out of the remaining rounds.
        console.log(`  ! ${mode} ${v}: ${err.message}`);
        dead.add(v);
        continue;
      }
      if (res.errors > 0) console.log(`  ! ${mode} ${v}: ${res.errors} errors (first: ${res.firstError})`);
      samples.get(v).cpu.push(cpuPerRequest(res.startMark, res.endMark));
      samples.get(v).rps.push(res.rps);
    }
  }
  for (const v of variants) {
    const suffix = v.includes('@') ? '@base' : '';
    const noneKey = `none${suffix}`;
    const base = samples.has(noneKey) ? median(samples.get(noneKey).cpu) : Number.NaN;
    const cpu = median(samples.get(v).cpu);
    const min = Math.min(...samples.get(v).cpu);
    const bare = v.split('@')[0];
    const delta =
      bare === 'none' || bare === 'passthrough' || !Number.isFinite(base)
        ? ''
        : `+${(cpu - base).toFixed(0)} µs`;
    console.log(
      `${mode.padEnd(5)} ${v.padEnd(17)}   ${fmt.us(cpu)}    ${fmt.us(min)} ${delta.padStart(9)}   ${fmt.rps(median(samples.get(v).rps))}`,
    );
  }
  for (const role of roles.values()) await role.stop().catch(() => {});
  await upstream.stop();
}
