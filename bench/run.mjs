#!/usr/bin/env node
// `npm run bench`: the same closed-loop load, in one run, against
//   direct       the upstream itself (baseline),
//   passthrough  Bastion with no middleware (proxy-core only),
//   full chain   Bastion through the runner with JWT validation (JWKS), a Cedar policy, audit events to
//                a file, a tool filter and telemetry (traces + Prometheus metrics),
// for a JSON `tools/call` answer and an SSE-framed one, at two concurrency levels. Prints req/s, the
// ratio to direct, p50/p99 and the latency each proxy adds, the proxies' RSS, and the proxies' CPU time
// per request (process.cpuUsage in the proxy process ÷ requests it served during the measured window:
// the figure to compare between runs, since it hardly moves with machine load). Rounds alternate
// direct/passthrough/full so machine noise hits all three. Nothing here asserts timings.
// Both upstreams of bench/lib/upstreams.mjs are measured (BENCH_UPSTREAM, default "sdk,remote"): the MCP
// SDK server sharing this machine's cores, and a remote stand-in with a fixed 5 ms service delay and no CPU
// of its own. Each proxy gets BENCH_JIT_WARMUP_MS (4 000) of unmeasured load first.
// Per-layer CPU costs: `node bench/cpu.mjs`; noise-robust tails: `npm run bench:latency`.
//
//   npm run bench                           # builds if needed (about 4 minutes)
//   BENCH_DURATION_MS=10000 BENCH_CONCURRENCY=4,16 BENCH_UPSTREAM=sdk npm run bench
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ECHO_CALL_BODY, ECHO_CALL_HEADERS, echoHeadersFor, fmt, runLoad, warmUpJit } from './lib/load.mjs';
import { cpuPerRequest, spawnRole } from './lib/spawn.mjs';
import { describeUpstream, spawnUpstream, upstreamKinds } from './lib/upstreams.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const needed = [
  'proxy-core',
  'testkit',
  'runner',
  'auth',
  'authz',
  'audit',
  'tool-filter',
  'telemetry',
  'token-exchange',
];
if (needed.some((p) => !existsSync(`${root}/packages/${p}/dist/index.js`))) {
  execSync('npx nx run-many -t build --outputStyle=static', { cwd: root, stdio: 'inherit' });
}

const durationMs = Number(process.env.BENCH_DURATION_MS ?? 5000);
const warmupMs = Number(process.env.BENCH_WARMUP_MS ?? 1000);
const levels = (process.env.BENCH_CONCURRENCY ?? '4,16').split(',').map(Number);
const body = ECHO_CALL_BODY;
const headers = ECHO_CALL_HEADERS;
const kinds = upstreamKinds();

console.log(
  `Bastion benchmark — node ${process.version}, ${durationMs} ms per measurement (+${warmupMs} ms warm-up), closed loop`,
);
const summary = [];
for (const kind of kinds) {
  console.log(`\n${describeUpstream(kind)}`);
  console.log(
    'scenario          conc  variant          rps   vs direct      p50      p99  added p50  added p99  CPU/req   proxy RSS',
  );
  for (const mode of ['json', 'sse']) {
    const upstream = await spawnUpstream(kind, mode);
    const passthrough = await spawnRole('proxy', [upstream.url]);
    const full = await spawnRole('full-chain', [upstream.url]);
    await warmUpJit(passthrough, Math.max(...levels));
    await warmUpJit(full, Math.max(...levels));
    for (const concurrency of levels) {
      const load = (url, h, role) =>
        runLoad({
          url,
          body,
          headers: h,
          concurrency,
          durationMs,
          warmupMs,
          onMeasureStart: () => role?.cpu(),
          onMeasureEnd: () => role?.cpu(),
        });
      const direct = await load(upstream.url, headers, undefined);
      const pass = await load(passthrough.url, headers, passthrough);
      const chain = await load(full.url, echoHeadersFor(full), full);
      const rows = [
        ['direct', direct, undefined],
        ['passthrough', pass, await passthrough.rss()],
        ['full chain', chain, await full.rss()],
      ];
      for (const [label, r, rss] of rows) {
        const cpu = cpuPerRequest(r.startMark, r.endMark);
        if (r.errors > 0) console.log(`  ! ${label}: ${r.errors} errors (first: ${r.firstError})`);
        const isDirect = label === 'direct';
        console.log(
          `${`tools/call ${mode}`.padEnd(17)} ${String(concurrency).padStart(4)}  ${label.padEnd(12)} ${fmt.rps(r.rps)}  ${isDirect ? '      —' : fmt.pct(r.rps / direct.rps)} ${fmt.ms(r.p50)} ${fmt.ms(r.p99)} ${isDirect ? '         —' : fmt.ms(r.p50 - direct.p50)} ${isDirect ? '         —' : fmt.ms(r.p99 - direct.p99)} ${fmt.us(cpu)}   ${rss === undefined ? '' : fmt.mb(rss)}`,
        );
      }
      summary.push({
        kind,
        mode,
        concurrency,
        ratio: chain.rps / direct.rps,
        addedP99: chain.p99 - direct.p99,
        cpu: cpuPerRequest(chain.startMark, chain.endMark),
        passCpu: cpuPerRequest(pass.startMark, pass.endMark),
      });
    }
    await full.stop();
    await passthrough.stop();
    await upstream.stop();
  }
}
for (const kind of kinds) {
  console.log(`\nfull chain, upstream ${kind}: ${summaryLine(summary.filter((r) => r.kind === kind))}`);
}
console.log('goal (issue #8): full chain >= 60% of direct throughput and < 2 ms added p99 at concurrency 16');

function summaryLine(rows) {
  return rows
    .map(
      (r) =>
        `${r.mode}@${r.concurrency} ${(r.ratio * 100).toFixed(1)}% of direct, +${r.addedP99.toFixed(2)} ms p99, ${r.cpu.toFixed(0)} µs CPU/req (passthrough ${r.passCpu.toFixed(0)})`,
    )
    .join('; ');
}
