/**
 * The conformance comparison: the MCP conformance suite's server scenarios against the reference
 * upstream directly, through a passthrough Bastion proxy, and through the full chain; per scenario the
 * three results must be identical.
 */
import { startProxyServer, type ProxyServer } from '@bastion-mcp/proxy-core';
import { createFullChain } from './chain.js';
import { differences } from './compare.js';
import { checkIdOf, KNOWN_DIFFERENCES, type KnownDifference } from './known-differences.js';
import { findNode22 } from './node22.js';
import { startReferenceUpstream } from './reference/index.js';
import { runServerSuite, type ScenarioResult } from './suite.js';

export const TARGETS = ['direct', 'passthrough', 'full-chain'] as const;
export type Target = (typeof TARGETS)[number];

/** Protocol revisions run by default (all the installed suite knows of those the issue asks for). */
export const DEFAULT_SPEC_VERSIONS = ['2025-06-18', '2025-11-25', '2026-07-28'] as const;

export interface ConformanceRow {
  specVersion: string;
  scenario: string;
  results: Record<Target, ScenarioResult | undefined>;
  /** Differences of each proxied target from `direct` not covered by the baseline (empty = identical). */
  regressions: Record<Exclude<Target, 'direct'>, string[]>;
  /** Differences covered by the known-differences baseline. */
  known: Record<Exclude<Target, 'direct'>, string[]>;
}

export interface ConformanceReport {
  rows: ConformanceRow[];
  /** Rows where a proxied run differs from the direct one. */
  regressions: ConformanceRow[];
  /** Rows whose direct run has a FAILURE check (the reference upstream itself does not pass). */
  directFailures: ConformanceRow[];
  /** Rows with differences the baseline explains. */
  knownDifferences: ConformanceRow[];
  /** Baseline entries whose scenario ran but whose difference did not occur (remove them). */
  staleKnownDifferences: KnownDifference[];
}

export interface ConformanceOptions {
  specVersions?: readonly string[] | undefined;
  /** Only these scenarios. Default: every scenario of each version. */
  scenarios?: readonly string[] | undefined;
  /** Node ≥ 22 binary for the suite. Default: {@link findNode22}. */
  node?: string | undefined;
  /** Suite output, prefixed by target. */
  onOutput?: ((target: Target, specVersion: string, chunk: string) => void) | undefined;
  /** Run the three targets of a version at the same time. Default `true`. */
  parallel?: boolean | undefined;
  /** Baseline of understood proxied differences. Default {@link KNOWN_DIFFERENCES}; `[]` shows all. */
  knownDifferences?: readonly KnownDifference[] | undefined;
}

function split(
  row: Pick<ConformanceRow, 'specVersion' | 'scenario'>,
  target: Exclude<Target, 'direct'>,
  diffs: string[],
  baseline: readonly KnownDifference[],
): { regressions: string[]; known: string[] } {
  const isKnown = (d: string) =>
    baseline.some(
      (k) =>
        k.specVersion === row.specVersion &&
        k.scenario === row.scenario &&
        k.target === target &&
        k.check === checkIdOf(d),
    );
  return { regressions: diffs.filter((d) => !isKnown(d)), known: diffs.filter(isKnown) };
}

export async function runConformance(options: ConformanceOptions = {}): Promise<ConformanceReport> {
  const node = options.node ?? findNode22();
  const versions = options.specVersions ?? DEFAULT_SPEC_VERSIONS;
  const baseline = options.knownDifferences ?? KNOWN_DIFFERENCES;
  const upstream = await startReferenceUpstream();
  const chain = await createFullChain();
  const proxies: ProxyServer[] = [];
  try {
    proxies.push(await startProxyServer({ upstreamUrl: upstream.url, serverName: 'reference' }));
    proxies.push(
      await startProxyServer({
        upstreamUrl: upstream.url,
        serverName: 'reference',
        middlewares: chain.middlewares,
      }),
    );
    const urls: Record<Target, string> = {
      direct: upstream.url,
      passthrough: proxies[0]!.url,
      'full-chain': proxies[1]!.url,
    };
    const rows: ConformanceRow[] = [];
    for (const specVersion of versions) {
      const runOne = (target: Target) =>
        runServerSuite({
          url: urls[target],
          specVersion,
          node,
          scenarios: options.scenarios,
          onOutput: options.onOutput ? (c) => options.onOutput?.(target, specVersion, c) : undefined,
        });
      const results: ScenarioResult[][] = [];
      if (options.parallel ?? true) results.push(...(await Promise.all(TARGETS.map(runOne))));
      else for (const t of TARGETS) results.push(await runOne(t));
      const byTarget = Object.fromEntries(
        TARGETS.map((t, i) => [t, new Map(results[i]!.map((r) => [r.scenario, r]))]),
      ) as Record<Target, Map<string, ScenarioResult>>;
      const names = new Set(TARGETS.flatMap((t) => [...byTarget[t].keys()]));
      for (const scenario of [...names].sort()) {
        const r = Object.fromEntries(
          TARGETS.map((t) => [t, byTarget[t].get(scenario)]),
        ) as ConformanceRow['results'];
        const key = { specVersion, scenario };
        const pass = split(key, 'passthrough', differences(r.direct, r.passthrough), baseline);
        const full = split(key, 'full-chain', differences(r.direct, r['full-chain']), baseline);
        rows.push({
          specVersion,
          scenario,
          results: r,
          regressions: { passthrough: pass.regressions, 'full-chain': full.regressions },
          known: { passthrough: pass.known, 'full-chain': full.known },
        });
      }
    }
    return {
      rows,
      regressions: rows.filter(
        (r) => r.regressions.passthrough.length + r.regressions['full-chain'].length > 0,
      ),
      directFailures: rows.filter((r) => (r.results.direct?.failed ?? 1) > 0),
      knownDifferences: rows.filter((r) => r.known.passthrough.length + r.known['full-chain'].length > 0),
      staleKnownDifferences: baseline.filter((k) => {
        const row = rows.find((r) => r.specVersion === k.specVersion && r.scenario === k.scenario);
        return row !== undefined && !row.known[k.target].some((d) => checkIdOf(d) === k.check);
      }),
    };
  } finally {
    await Promise.allSettled(proxies.map((p) => p.close({ graceMs: 0 })));
    await chain.close();
    await upstream.close();
  }
}
