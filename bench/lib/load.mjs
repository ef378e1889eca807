// Closed-loop load generator on an undici Pool: `concurrency` workers each send a request, read the
// whole response, and record its latency. Fixed concurrency, fixed duration, warm-up excluded.
import { Pool } from 'undici';

export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/**
 * @param {{ url: string, method?: string, body?: string, headers?: Record<string,string>,
 *   concurrency: number, durationMs: number, warmupMs?: number, expectStatus?: number,
 *   onMeasureStart?: () => unknown, onMeasureEnd?: () => unknown }} o
 *   `onMeasureStart` / `onMeasureEnd` are awaited right before and after the measured window (e.g. to
 *   sample a role's CPU time while the load keeps running).
 */
export async function runLoad(o) {
  const url = new URL(o.url);
  const pool = new Pool(url.origin, { connections: o.concurrency, pipelining: 1, keepAliveTimeout: 10_000 });
  const path = url.pathname + url.search;
  const expectStatus = o.expectStatus ?? 200;
  const latencies = [];
  let errors = 0;
  let measuring = false;
  let stop = false;
  let firstError;
  const worker = async () => {
    while (!stop) {
      const t0 = process.hrtime.bigint();
      try {
        const res = await pool.request({
          path,
          method: o.method ?? 'POST',
          headers: o.headers,
          body: o.body,
        });
        await res.body.text();
        if (res.statusCode !== expectStatus) throw new Error(`status ${res.statusCode}`);
        if (measuring) latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      } catch (err) {
        if (measuring) errors++;
        firstError ??= err;
      }
    }
  };
  const workers = Array.from({ length: o.concurrency }, worker);
  let startMark;
  let endMark;
  let elapsed = 0;
  try {
    await new Promise((r) => setTimeout(r, o.warmupMs ?? 1000));
    startMark = await o.onMeasureStart?.();
    measuring = true;
    const started = performance.now();
    await new Promise((r) => setTimeout(r, o.durationMs));
    measuring = false;
    elapsed = performance.now() - started;
    endMark = await o.onMeasureEnd?.();
  } finally {
    // Whatever happened (e.g. the measured process died), stop the workers and the pool.
    stop = true;
    await Promise.all(workers);
    await pool.close();
  }
  latencies.sort((a, b) => a - b);
  return {
    startMark,
    endMark,
    requests: latencies.length,
    errors,
    firstError: firstError ? String(firstError.message ?? firstError) : undefined,
    rps: (latencies.length / elapsed) * 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    /** Every measured latency, ms, sorted (for pooling rounds: bench/latency.mjs). */
    latencies,
  };
}

export const fmt = {
  rps: (n) => n.toFixed(0).padStart(7),
  ms: (n) => `${n.toFixed(2)} ms`.padStart(10),
  pct: (n) => `${(n * 100).toFixed(1)}%`.padStart(7),
  mb: (n) => `${(n / 1024 / 1024).toFixed(1)} MiB`,
  us: (n) => (Number.isFinite(n) ? `${n.toFixed(0)} µs` : '—').padStart(8),
};

/** The request every throughput benchmark sends: a `tools/call` of the testkit `echo` tool. */
export const ECHO_CALL_BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'echo', arguments: { text: 'hello bastion' } },
});

/** Headers of that request (a client accepting JSON or SSE answers, protocol 2025-06-18). */
export const ECHO_CALL_HEADERS = Object.freeze({
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-06-18',
});

/** The headers of the echo call for a role (with its bearer token when it has one). */
export function echoHeadersFor(role) {
  return role.token ? { ...ECHO_CALL_HEADERS, authorization: `Bearer ${role.token}` } : ECHO_CALL_HEADERS;
}

/**
 * Unmeasured load until V8 has optimised the role's hot paths. A freshly started proxy needs several
 * seconds under load before its CPU per request settles (≈ 1 800 → 250 µs for the full chain over the first
 * 5 s here); without this, the first window of every variant measures the JIT, not the proxy.
 */
export async function warmUpJit(role, concurrency) {
  const ms = Number(process.env.BENCH_JIT_WARMUP_MS ?? 4000);
  if (ms <= 0) return;
  await runLoad({
    url: role.url,
    body: ECHO_CALL_BODY,
    headers: echoHeadersFor(role),
    concurrency,
    durationMs: ms,
    warmupMs: 0,
  });
}
