/**
 * The conformance comparison: the MCP conformance suite's server scenarios against the reference
 * upstream directly, through a passthrough Bastion proxy, and through the full chain; per scenario the
 * three results must be identical.
 */
import { startProxyServer, type ProxyServer } from '@bastion-mcp/proxy-core';
import { createFullChain } from './chain.js';
import { differences } from './compare.js';
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
  /** Differences of each proxied target from `direct` (empty = identical). */
  regressions: Record<Exclude<Target, 'direct'>, string[]>;
}

export interface ConformanceReport {
  rows: ConformanceRow[];
  /** Rows where a proxied run differs from the direct one. */
  regressions: ConformanceRow[];
  /** Rows whose direct run has a FAILURE check (the reference upstream itself does not pass). */
  directFailures: ConformanceRow[];
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
}

export async function runConformance(options: ConformanceOptions = {}): Promise<ConformanceReport> {
  const node = options.node ?? findNode22();
  const versions = options.specVersions ?? DEFAULT_SPEC_VERSIONS;
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
        rows.push({
          specVersion,
          scenario,
          results: r,
          regressions: {
            passthrough: differences(r.direct, r.passthrough),
            'full-chain': differences(r.direct, r['full-chain']),
          },
        });
      }
    }
    return {
      rows,
      regressions: rows.filter(
        (r) => r.regressions.passthrough.length + r.regressions['full-chain'].length > 0,
      ),
      directFailures: rows.filter((r) => (r.results.direct?.failed ?? 1) > 0),
    };
  } finally {
    await Promise.allSettled(proxies.map((p) => p.close({ graceMs: 0 })));
    await chain.close();
    await upstream.close();
  }
}
