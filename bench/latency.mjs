#!/usr/bin/env node
// Tail latency, interleaved: direct, passthrough and the full chain (and, with BENCH_BASELINE, the
// full chain of another checkout) are measured in short alternating windows against one upstream,
// and each variant's latencies are POOLED over all its windows before percentiles are taken. On a
// shared machine the load of other processes drifts over minutes; alternating windows spreads that
// drift over every variant alike, where `npm run bench` (one 5 s window per variant, one after the
// other) lets a single busy spell land on one variant's p99.
//
//   node bench/latency.mjs
//   BENCH_MODES=json BENCH_ROUNDS=12 BENCH_WINDOW_MS=2000 BENCH_CONCURRENCY=16 node bench/latency.mjs
//   BENCH_BASELINE=/path/to/other/checkout node bench/latency.mjs   # adds "full chain@base"
//   BENCH_LAYERS="auth,authz;auth,authz,tools" node bench/latency.mjs
//     adds one variant per `;`-separated subset of the full chain's layers (bench/lib/chain-config.mjs:
//     auth, audit, tools, telemetry, authz; "none" = the runner's chain, anonymous), to see how each
//     layer's CPU shows up in the tail.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ECHO_CALL_BODY, ECHO_CALL_HEADERS, fmt, percentile, runLoad } from './lib/load.mjs';
import { spawnRole } from './lib/spawn.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
if (!existsSync(`${root}/packages/runner/dist/index.js`)) {
  execSync('npx nx run-many -t build --outputStyle=static', { cwd: root, stdio: 'inherit' });
}
const rounds = Number(process.env.BENCH_ROUNDS ?? 10);
const windowMs = Number(process.env.BENCH_WINDOW_MS ?? 2000);
const warmupMs = Number(process.env.BENCH_WARMUP_MS ?? 500);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
const modes = (process.env.BENCH_MODES ?? 'json,sse').split(',');
const baseline = process.env.BENCH_BASELINE;
const layerSets = (process.env.BENCH_LAYERS ?? '').split(';').filter(Boolean);

console.log(
  `Bastion tail latency — node ${process.version}, concurrency ${concurrency}, ${rounds} interleaved windows × ${windowMs} ms per variant (+${warmupMs} ms warm-up each), latencies pooled`,
);
console.log(
  'mode  variant               requests       p50       p90       p99     p99.9   added p50   added p99',
);
for (const mode of modes) {
  const upstream = await spawnRole('upstream', [mode]);
  const variants = [
    ['direct', { url: upstream.url }],
    ['passthrough', await spawnRole('proxy', [upstream.url])],
    ['full chain', await spawnRole('full-chain', [upstream.url])],
  ];
  for (const layers of layerSets) {
    variants.push([layers, await spawnRole('full-chain', [upstream.url, layers])]);
  }
  if (baseline) {
    variants.push([
      'full chain@base',
      await spawnRole('full-chain', [upstream.url], {}, [], `${baseline}/bench`),
    ]);
  }
  const pooled = new Map(variants.map(([name]) => [name, []]));
  for (let r = 0; r < rounds; r++) {
    // Rotate the order every round so no variant always follows the same one.
    for (let i = 0; i < variants.length; i++) {
      const [name, role] = variants[(i + r) % variants.length];
      const res = await runLoad({
        url: role.url,
        body: ECHO_CALL_BODY,
        headers: role.token
          ? { ...ECHO_CALL_HEADERS, authorization: `Bearer ${role.token}` }
          : ECHO_CALL_HEADERS,
        concurrency,
        durationMs: windowMs,
        warmupMs,
      });
      if (res.errors > 0) console.log(`  ! ${mode} ${name}: ${res.errors} errors (first: ${res.firstError})`);
      for (const l of res.latencies) pooled.get(name).push(l);
    }
  }
  const stats = new Map();
  for (const [name, ls] of pooled) {
    ls.sort((a, b) => a - b);
    stats.set(name, {
      n: ls.length,
      p50: percentile(ls, 50),
      p90: percentile(ls, 90),
      p99: percentile(ls, 99),
      p999: percentile(ls, 99.9),
    });
  }
  const direct = stats.get('direct');
  for (const [name, s] of stats) {
    const added = (k) => (name === 'direct' ? '         —' : fmt.ms(s[k] - direct[k]));
    console.log(
      `${mode.padEnd(5)} ${name.padEnd(Math.max(18, ...[...stats.keys()].map((k) => k.length)))} ${String(s.n).padStart(11)} ${fmt.ms(s.p50)}${fmt.ms(s.p90)}${fmt.ms(s.p99)}${fmt.ms(s.p999)}  ${added('p50')}  ${added('p99')}`,
    );
  }
  for (const [name, role] of variants) if (name !== 'direct') await role.stop();
  await upstream.stop();
}
console.log('goal (issue #8): full chain < 2 ms added p99 at concurrency 16');
