#!/usr/bin/env node
/**
 * Benchmark: the cost of telemetry, on vs off, in the same run.
 *
 * Three proxies run side by side in this process against one testkit MCP upstream (stateless, JSON
 * answers), each with the chain position of a real deployment:
 *   none  — no telemetry middleware at all (baseline)
 *   off   — `createTelemetry({ enabled: false })`: pass-through middlewares, no OpenTelemetry SDK loaded
 *   on    — `createTelemetry()` edge + middleware: SERVER span + upstream CLIENT span per request
 *           (sampled at BENCH_SAMPLE_RATIO, default 1, spans ended but not exported), all metrics,
 *           response inspection, W3C propagation; the Prometheus endpoint is scraped once at the end
 * A closed-loop load (undici Pool, fixed concurrency) sends `tools/call echo`; rounds alternate
 * none/off/on so machine noise hits all three. Prints req/s, p50/p99 and the ratio to `none`.
 * Nothing here asserts timings.
 *
 * Run (from the repo root, after building the packages it imports):
 *   npx nx run-many -t build -p proxy-core testkit telemetry     # or: npm run build
 *   node bench/telemetry.mjs
 * Environment knobs: BENCH_CONCURRENCY (default 16), BENCH_DURATION_MS per round (default 3000),
 * BENCH_ROUNDS (default 3), BENCH_WARMUP_MS (default 500), BENCH_SAMPLE_RATIO (default 1).
 */
import { startProxyServer } from '@bastion-mcp/proxy-core';
import { createTelemetry } from '@bastion-mcp/telemetry';
import { startMcpUpstream } from '@bastion-mcp/testkit';
import { ECHO_CALL_BODY, ECHO_CALL_HEADERS, runLoad } from './lib/load.mjs';

const fmt = (x) => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x.toFixed(2)) : 'n/a');

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 500);
const SAMPLE_RATIO = Number(process.env.BENCH_SAMPLE_RATIO ?? 1);

const body = ECHO_CALL_BODY;
const headers = {
  ...ECHO_CALL_HEADERS,
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
};

const upstream = await startMcpUpstream({ stateless: true, jsonResponse: true });
const off = await createTelemetry({ enabled: false });
const on = await createTelemetry({ sampleRatio: SAMPLE_RATIO });
const metrics = await on.startMetricsServer({ port: 0 });

const proxies = {
  none: await startProxyServer({ upstreamUrl: upstream.url, serverName: 'bench', middlewares: [] }),
  off: await startProxyServer({
    upstreamUrl: upstream.url,
    serverName: 'bench',
    middlewares: [off.edge, off.middleware],
  }),
  on: await startProxyServer({
    upstreamUrl: upstream.url,
    serverName: 'bench',
    middlewares: [on.edge, on.middleware],
  }),
};

// one tools/list through the instrumented proxy, so the tool label guard knows `echo`
await (
  await fetch(proxies.on.url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'tools/list' }),
  })
).text();
// discarded warm-up of every proxy (JIT, connection pools)
for (const proxy of Object.values(proxies)) {
  await runLoad({
    url: proxy.url,
    body,
    headers,
    concurrency: CONCURRENCY,
    durationMs: WARMUP_MS,
    warmupMs: WARMUP_MS,
  });
}

const totals = Object.fromEntries(
  Object.keys(proxies).map((k) => [k, { requests: 0, ms: 0, p50: [], p99: [], errors: 0 }]),
);
console.log(
  `telemetry bench: concurrency ${CONCURRENCY}, ${ROUNDS} rounds x ${DURATION_MS} ms, sampleRatio ${SAMPLE_RATIO}`,
);
for (let round = 1; round <= ROUNDS; round++) {
  for (const [name, proxy] of Object.entries(proxies)) {
    const r = await runLoad({
      url: proxy.url,
      body,
      headers,
      concurrency: CONCURRENCY,
      durationMs: DURATION_MS,
      warmupMs: WARMUP_MS,
    });
    const t = totals[name];
    t.requests += r.requests;
    t.ms += DURATION_MS;
    t.p50.push(r.p50);
    t.p99.push(r.p99);
    t.errors += r.errors;
    console.log(
      `  round ${round} ${name.padEnd(4)} ${fmt(r.rps)} req/s  p50 ${fmt(r.p50)} ms  p99 ${fmt(r.p99)} ms${r.errors ? `  errors ${r.errors} (${r.firstError})` : ''}`,
    );
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rpsOf = (t) => (t.requests / t.ms) * 1000;
console.log('\nsummary (req/s over all rounds; p50/p99 = median of rounds)');
for (const [name, t] of Object.entries(totals)) {
  const rps = rpsOf(t);
  console.log(
    `  ${name.padEnd(4)} ${fmt(rps).padStart(8)} req/s  vs none ${(rps / rpsOf(totals.none)).toFixed(3)}  p50 ${fmt(median(t.p50))} ms  p99 ${fmt(median(t.p99))} ms  errors ${t.errors}`,
  );
}
console.log(
  `\nratio on/off: ${(rpsOf(totals.on) / rpsOf(totals.off)).toFixed(3)}   off/none: ${(rpsOf(totals.off) / rpsOf(totals.none)).toFixed(3)}`,
);

const scraped = await (await fetch(metrics.url)).text();
const line = scraped
  .split('\n')
  .find((l) => l.startsWith('bastion_mcp_requests_total{') && l.includes('tools/call'));
console.log(`\nscrape check: ${line ?? '(no bastion_mcp_requests_total sample!)'}`);

for (const proxy of Object.values(proxies)) await proxy.close();
await on.shutdown();
await upstream.close();
