#!/usr/bin/env node
// Tail latency, interleaved: direct, a reference Node proxy, Bastion's passthrough and the full chain
// (and, with BENCH_BASELINE, the full chain of another checkout) are measured in short alternating windows
// against one upstream. Two figures per variant:
//   pooled     every window's latencies pooled, then percentiles (what a client sees over the run);
//   paired     per round, the variant's p99 minus direct's p99 from the neighbouring window; the median
//              over rounds with a 90 % bootstrap interval. Pairing cancels the drift of a shared
//              machine's load, and the interval says whether two figures really differ.
// Every variant first gets BENCH_JIT_WARMUP_MS (4 000) of unmeasured load so the windows measure optimised
// code, and the round order rotates so no variant always follows the same one.
//
// Upstreams (BENCH_UPSTREAM, default "sdk,remote"; bench/lib/upstreams.mjs): `sdk` is the MCP SDK server on
// this machine (proxy and upstream share the 2 cores), `remote` answers after a fixed delay with no CPU of
// its own (BENCH_UPSTREAM_DELAY_MS=5, BENCH_UPSTREAM_JITTER_MS=0).
//
//   npm run bench:latency
//   BENCH_UPSTREAM=remote BENCH_MODES=json BENCH_ROUNDS=16 node bench/latency.mjs
//   BENCH_BASELINE=/path/to/other/checkout node bench/latency.mjs   # adds "full chain@base"
//   BENCH_LAYERS="auth,authz;auth,authz,tools" node bench/latency.mjs
//     adds one variant per `;`-separated subset of the full chain's layers (bench/lib/chain-config.mjs:
//     auth, audit, tools, telemetry, authz; "none" = the runner's chain, anonymous), to see how each
//     layer's CPU shows up in the tail.
//   BENCH_REFERENCE=0 drops the reference proxy (bench/roles/node-reference-proxy.mjs).
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ECHO_CALL_BODY, echoHeadersFor, fmt, percentile, runLoad, warmUpJit } from './lib/load.mjs';
import { spawnRole } from './lib/spawn.mjs';
import { medianWithInterval, pairedDifferences } from './lib/stats.mjs';
import { describeUpstream, spawnUpstream, upstreamKinds } from './lib/upstreams.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
if (!existsSync(`${root}/packages/runner/dist/index.js`)) {
  execSync('npx nx run-many -t build --outputStyle=static', { cwd: root, stdio: 'inherit' });
}
const rounds = Number(process.env.BENCH_ROUNDS ?? 10);
const windowMs = Number(process.env.BENCH_WINDOW_MS ?? 2000);
const warmupMs = Number(process.env.BENCH_WARMUP_MS ?? 500);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 16);
const modes = (process.env.BENCH_MODES ?? 'json,sse').split(',');
const kinds = upstreamKinds();
const baseline = process.env.BENCH_BASELINE;
const layerSets = (process.env.BENCH_LAYERS ?? '').split(';').filter(Boolean);
const withReference = process.env.BENCH_REFERENCE !== '0';

console.log(
  `Bastion tail latency — node ${process.version}, concurrency ${concurrency}, ${rounds} interleaved windows × ${windowMs} ms per variant (+${warmupMs} ms warm-up each, after ${process.env.BENCH_JIT_WARMUP_MS ?? 4000} ms of JIT warm-up per variant)`,
);
for (const kind of kinds) {
  console.log(`\n${describeUpstream(kind)}`);
  console.log(
    'mode  variant             requests       p50       p90       p99     p99.9   added p50   added p99   paired added p99 (90% CI)',
  );
  for (const mode of modes) {
    const upstream = await spawnUpstream(kind, mode);
    const variants = [['direct', { url: upstream.url }]];
    if (withReference) {
      variants.push(['node reference', await spawnRole('node-reference-proxy', [upstream.url])]);
    }
    variants.push(['passthrough', await spawnRole('proxy', [upstream.url])]);
    variants.push(['full chain', await spawnRole('full-chain', [upstream.url])]);
    for (const layers of layerSets) {
      variants.push([layers, await spawnRole('full-chain', [upstream.url, layers])]);
    }
    if (baseline) {
      variants.push([
        'full chain@base',
        await spawnRole('full-chain', [upstream.url], {}, [], `${baseline}/bench`),
      ]);
    }
    for (const [, role] of variants) await warmUpJit(role, concurrency);
    const pooled = new Map(variants.map(([name]) => [name, []]));
    const perRoundP99 = new Map(variants.map(([name]) => [name, []]));
    for (let r = 0; r < rounds; r++) {
      // Rotate the order every round so no variant always follows the same one.
      for (let i = 0; i < variants.length; i++) {
        const [name, role] = variants[(i + r) % variants.length];
        const res = await runLoad({
          url: role.url,
          body: ECHO_CALL_BODY,
          headers: echoHeadersFor(role),
          concurrency,
          durationMs: windowMs,
          warmupMs,
        });
        if (res.errors > 0)
          console.log(`  ! ${mode} ${name}: ${res.errors} errors (first: ${res.firstError})`);
        for (const l of res.latencies) pooled.get(name).push(l);
        perRoundP99.get(name).push(res.p99);
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
    const width = Math.max(18, ...[...stats.keys()].map((k) => k.length));
    for (const [name, s] of stats) {
      const isDirect = name === 'direct';
      const added = (k) => (isDirect ? '         —' : fmt.ms(s[k] - direct[k]));
      let paired = '';
      if (!isDirect) {
        const d = medianWithInterval(pairedDifferences(perRoundP99.get(name), perRoundP99.get('direct')));
        paired = `${fmt.ms(d.median)}  [${d.low.toFixed(2)}, ${d.high.toFixed(2)}]`;
      }
      console.log(
        `${mode.padEnd(5)} ${name.padEnd(width)} ${String(s.n).padStart(9)} ${fmt.ms(s.p50)}${fmt.ms(s.p90)}${fmt.ms(s.p99)}${fmt.ms(s.p999)}  ${added('p50')}  ${added('p99')}  ${paired}`,
      );
    }
    for (const [name, role] of variants) if (name !== 'direct') await role.stop();
    await upstream.stop();
  }
}
console.log('\ngoal (issue #8): full chain < 2 ms added p99 at concurrency 16');
