// The two upstreams every throughput/latency benchmark can run against (BENCH_UPSTREAM):
//   sdk     the testkit MCP server (@modelcontextprotocol/sdk, stateless) on this machine — a real MCP
//           implementation, but it needs ~1.2 of the 2 cores, so proxy and upstream compete for CPU;
//   remote  a stand-in for a remote MCP server (bench/roles/upstream-remote.mjs): the same bytes after a
//           fixed service delay (BENCH_UPSTREAM_DELAY_MS, default 5; BENCH_UPSTREAM_JITTER_MS, default 0),
//           almost no CPU — the proxy's own cost shows against a tight baseline.
import { spawnRole } from './spawn.mjs';

export const UPSTREAM_KINDS = ['sdk', 'remote'];

/** The upstream kinds a run asked for (`BENCH_UPSTREAM=sdk,remote`), validated. */
export function upstreamKinds(fallback = 'sdk,remote') {
  const kinds = (process.env.BENCH_UPSTREAM ?? fallback).split(',').filter(Boolean);
  const unknown = kinds.filter((k) => !UPSTREAM_KINDS.includes(k));
  if (unknown.length > 0 || kinds.length === 0) {
    throw new TypeError(`BENCH_UPSTREAM: expected a comma-separated list of ${UPSTREAM_KINDS.join(', ')}`);
  }
  return kinds;
}

/** @param {'sdk' | 'remote'} kind @param {'json' | 'sse'} mode */
export function spawnUpstream(kind, mode) {
  if (kind === 'sdk') return spawnRole('upstream', [mode]);
  const delay = process.env.BENCH_UPSTREAM_DELAY_MS ?? '5';
  const jitter = process.env.BENCH_UPSTREAM_JITTER_MS ?? '0';
  return spawnRole('upstream-remote', [mode, delay, jitter]);
}

/** One line describing the upstream, for the benchmark's header. */
export function describeUpstream(kind) {
  if (kind === 'sdk') return 'upstream sdk: testkit MCP SDK server, stateless, on this machine';
  const jitter = Number(process.env.BENCH_UPSTREAM_JITTER_MS ?? 0);
  return `upstream remote: ${process.env.BENCH_UPSTREAM_DELAY_MS ?? 5} ms service delay${jitter > 0 ? ` ± ${jitter} ms` : ''}, no CPU of its own (bench/roles/upstream-remote.mjs)`;
}
