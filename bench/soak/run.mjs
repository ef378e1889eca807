#!/usr/bin/env node
// Soak test: the full Bastion chain under a fixed request rate while SOAK_STREAMS SSE streams stay open,
// for SOAK_DURATION_S. Every SOAK_WINDOW_S it prints request rate, p50/p99 latency, errors, open streams
// and the proxy's RSS and heap (after a full GC); at the end, start/end memory, the heap trend over the
// second half (least-squares slope, MB/min) and the error total. Nothing is asserted: read the figures.
//
//   node bench/soak/run.mjs                                  # 10 minutes, 200 req/s, 500 streams
//   SOAK_DURATION_S=180 SOAK_RATE=200 SOAK_STREAMS=500 node bench/soak/run.mjs
//   SOAK_JSON=bench/out/soak.json node bench/soak/run.mjs    # also write every window as JSON
//   SOAK_TELEMETRY=0 …                                       # chain without the OpenTelemetry SDK
import { execSync, fork } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, Pool } from 'undici';

const root = fileURLToPath(new URL('../..', import.meta.url));
const env = (name, fallback, min = 1) => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    throw new TypeError(`${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  }
  return n;
};
const durationS = env('SOAK_DURATION_S', 600);
const rate = env('SOAK_RATE', 200);
const streams = env('SOAK_STREAMS', 500, 0);
const windowS = env('SOAK_WINDOW_S', 10);
const connections = env('SOAK_CONNECTIONS', 32);

const needsBuild = ['proxy-core', 'conformance', 'audit', 'auth', 'authz', 'tool-filter', 'telemetry'].some(
  (p) => !existsSync(`${root}/packages/${p}/dist/index.js`),
);
if (needsBuild)
  execSync('npx nx run @bastion-mcp/conformance:build --outputStyle=static', { cwd: root, stdio: 'inherit' });

async function role(script, args = [], execArgv = []) {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv,
  });
  const [msg] = await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`${script} exited early with code ${code}`);
    }),
  ]);
  let seq = 0;
  return {
    url: msg.url,
    pid: child.pid,
    async mem() {
      const id = ++seq;
      child.send({ type: 'mem', id });
      for (;;) {
        const [m] = await once(child, 'message');
        if (m.type === 'mem' && m.id === id) return m;
      }
    },
    async stop() {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

const HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-11-25',
};
const mb = (b) => (b / 1024 / 1024).toFixed(1);
const pct = (sorted, p) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN;

const upstream = await role('./upstream.mjs');
const proxy = await role('./proxy.mjs', [upstream.url], ['--expose-gc']);
const url = new URL(proxy.url);

// --- 500 SSE streams, opened once and kept open for the whole run ---
const streamAgent = new Agent({ connections: null, pipelining: 1, keepAliveTimeout: 60_000 });
let openStreams = 0;
let streamEvents = 0;
let streamErrors = 0;
const streamAborts = [];
async function openStream(i) {
  const ac = new AbortController();
  streamAborts.push(ac);
  try {
    const res = await streamAgent.request({
      origin: url.origin,
      path: url.pathname,
      method: 'POST',
      headers: HEADERS,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: `s${i}`,
        method: 'tools/call',
        params: { name: 'subscribe', arguments: {} },
      }),
      signal: ac.signal,
    });
    if (res.statusCode !== 200) throw new Error(`stream status ${res.statusCode}`);
    openStreams++;
    res.body.on('data', (c) => {
      streamEvents += (c.toString().match(/notifications\/progress/g) ?? []).length;
    });
    res.body.on('error', () => {});
    res.body.on('close', () => {
      openStreams--;
      if (!ac.signal.aborted) streamErrors++;
    });
  } catch (err) {
    if (!ac.signal.aborted) {
      streamErrors++;
      console.error(`stream ${i}: ${err.message}`);
    }
  }
}
for (let i = 0; i < streams; i += 50)
  await Promise.all(Array.from({ length: Math.min(50, streams - i) }, (_, k) => openStream(i + k)));

// --- fixed-rate (open-loop) tools/call traffic ---
const pool = new Pool(url.origin, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
let windowLat = [];
let windowErrors = 0;
let totalRequests = 0;
let totalErrors = 0;
let inFlight = 0;
let firstError;
let seq = 0;
async function one() {
  const id = ++seq;
  const t0 = process.hrtime.bigint();
  inFlight++;
  try {
    const res = await pool.request({
      path: url.pathname,
      method: 'POST',
      headers: HEADERS,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: `m${id}` } },
      }),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200 || !text.includes(`m${id}`)) throw new Error(`status ${res.statusCode}`);
    windowLat.push(Number(process.hrtime.bigint() - t0) / 1e6);
  } catch (err) {
    windowErrors++;
    firstError ??= err.message;
  } finally {
    inFlight--;
    totalRequests++;
  }
}
const maxInFlight = Math.max(100, rate * 5);
let dropped = 0;
let credit = 0;
let last = performance.now();
const ticker = setInterval(() => {
  const now = performance.now();
  credit += ((now - last) / 1000) * rate;
  last = now;
  while (credit >= 1) {
    credit--;
    if (inFlight >= maxInFlight) {
      dropped++;
      windowErrors++;
      continue;
    }
    void one();
  }
}, 5);

console.log(
  `Bastion soak — node ${process.version}, ${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}, ${mb(totalmem())} MB RAM; ` +
    `${durationS}s at ${rate} req/s, ${streams} SSE streams open (${openStreams} opened), full chain`,
);
console.log('   t(s)   req/s   p50 ms   p99 ms  errors  streams   RSS MB  heap MB  audit events');
const windows = [];
const start = await proxy.mem();
const t0 = performance.now();
const endAt = t0 + durationS * 1000;
while (performance.now() < endAt) {
  await new Promise((r) => setTimeout(r, Math.min(windowS * 1000, endAt - performance.now())));
  const lat = windowLat.sort((a, b) => a - b);
  const errors = windowErrors;
  windowLat = [];
  windowErrors = 0;
  totalErrors += errors;
  const m = await proxy.mem();
  const t = (performance.now() - t0) / 1000;
  const w = {
    t,
    rps: lat.length / windowS,
    p50: pct(lat, 50),
    p99: pct(lat, 99),
    errors,
    streams: openStreams,
    rss: m.rss,
    heapUsed: m.heapUsed,
    auditEvents: m.auditEvents,
  };
  windows.push(w);
  console.log(
    `${t.toFixed(0).padStart(7)} ${w.rps.toFixed(0).padStart(7)} ${w.p50.toFixed(2).padStart(8)} ${w.p99.toFixed(2).padStart(8)} ${String(errors).padStart(7)} ${String(openStreams).padStart(8)} ${mb(m.rss).padStart(8)} ${mb(m.heapUsed).padStart(8)} ${String(m.auditEvents).padStart(13)}`,
  );
}
clearInterval(ticker);
while (inFlight > 0) await new Promise((r) => setTimeout(r, 20));
const end = await proxy.mem();

// Least-squares slope of heap (MB/min) over the second half: steady state, after warm-up.
const half = windows.slice(Math.floor(windows.length / 2));
const slope = (() => {
  if (half.length < 2) return NaN;
  const xs = half.map((w) => w.t / 60);
  const ys = half.map((w) => w.heapUsed / 1024 / 1024);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const num = xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0);
  const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  return num / den;
})();
const p99s = windows.map((w) => w.p99).filter(Number.isFinite);
const summary = {
  durationS,
  rate,
  streams,
  requests: totalRequests,
  errors: totalErrors,
  droppedBySaturation: dropped,
  streamErrors,
  streamEvents,
  firstError,
  start: { rss: start.rss, heapUsed: start.heapUsed },
  end: { rss: end.rss, heapUsed: end.heapUsed, handles: end.handles },
  heapSlopeMbPerMinSecondHalf: slope,
  p99: { min: Math.min(...p99s), max: Math.max(...p99s), last: p99s.at(-1) },
};
console.log('');
console.log(
  `requests ${totalRequests}, errors ${totalErrors} (saturation drops ${dropped}), stream errors ${streamErrors}, stream events ${streamEvents}`,
);
console.log(
  `proxy RSS ${mb(start.rss)} → ${mb(end.rss)} MB; heap ${mb(start.heapUsed)} → ${mb(end.heapUsed)} MB; heap trend (second half) ${slope.toFixed(3)} MB/min`,
);
console.log(
  `p99 per window: min ${summary.p99.min.toFixed(2)} ms, max ${summary.p99.max.toFixed(2)} ms, last ${summary.p99.last?.toFixed(2)} ms`,
);
if (firstError) console.log(`first error: ${firstError}`);
if (process.env.SOAK_JSON) {
  mkdirSync(dirname(process.env.SOAK_JSON), { recursive: true });
  writeFileSync(process.env.SOAK_JSON, JSON.stringify({ summary, windows }, null, 2));
}

for (const ac of streamAborts) ac.abort();
await pool.close();
await streamAgent.destroy();
await proxy.stop();
await upstream.stop();
process.exitCode = totalErrors + streamErrors > 0 ? 1 : 0;
