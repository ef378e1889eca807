/** Plain-text table of a conformance report: scenario × direct / passthrough / full chain. */
import { type ConformanceReport, type ConformanceRow, TARGETS } from './run.js';
import type { ScenarioResult } from './suite.js';

function cell(r: ScenarioResult | undefined, diff?: string[], known?: string[]): string {
  if (r === undefined) return 'not run';
  const base = r.failed === 0 ? `pass ${r.passed}` : `FAIL ${r.failed}/${r.passed + r.failed}`;
  if (diff !== undefined && diff.length > 0) return `${base} ≠`;
  return known !== undefined && known.length > 0 ? `${base} (known)` : base;
}

/** The table, one line per (version, scenario), then a summary and every difference in full. */
export function formatReport(report: ConformanceReport): string {
  const head = ['spec', 'scenario', ...TARGETS];
  const lines: string[][] = [head];
  for (const row of report.rows) {
    lines.push([
      row.specVersion,
      row.scenario,
      cell(row.results.direct),
      cell(row.results.passthrough, row.regressions.passthrough, row.known.passthrough),
      cell(row.results['full-chain'], row.regressions['full-chain'], row.known['full-chain']),
    ]);
  }
  const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  const out = lines.map((l) =>
    l
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
  out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const versions = [...new Set(report.rows.map((r) => r.specVersion))];
  out.push('');
  for (const v of versions) {
    const rows = report.rows.filter((r) => r.specVersion === v);
    const count = (pred: (r: ConformanceRow) => boolean) => rows.filter(pred).length;
    out.push(
      `${v}: ${rows.length} scenarios; direct passes ${count((r) => r.results.direct?.failed === 0)}; ` +
        `identical through passthrough ${count((r) => r.regressions.passthrough.length + r.known.passthrough.length === 0)}, ` +
        `through full chain ${count((r) => r.regressions['full-chain'].length + r.known['full-chain'].length === 0)}` +
        `; known differences ${count((r) => r.known.passthrough.length + r.known['full-chain'].length > 0)}`,
    );
  }
  if (report.regressions.length > 0) {
    out.push('', 'Proxied regressions (check:STATUS present on one side only):');
    for (const r of report.regressions) {
      for (const t of ['passthrough', 'full-chain'] as const) {
        for (const d of r.regressions[t]) out.push(`  ${r.specVersion} ${r.scenario} [${t}] ${d}`);
      }
    }
  }
  if (report.knownDifferences.length > 0) {
    out.push('', 'Known differences (baseline, src/known-differences.ts):');
    for (const r of report.knownDifferences) {
      for (const t of ['passthrough', 'full-chain'] as const) {
        for (const d of r.known[t]) out.push(`  ${r.specVersion} ${r.scenario} [${t}] ${d}`);
      }
    }
  }
  if (report.staleKnownDifferences.length > 0) {
    out.push('', 'Stale baseline entries (the difference no longer occurs; remove them):');
    for (const k of report.staleKnownDifferences) {
      out.push(`  ${k.specVersion} ${k.scenario} [${k.target}] ${k.check}`);
    }
  }
  out.push(
    '',
    report.regressions.length === 0
      ? 'OK: no proxied regression'
      : `FAILED: ${report.regressions.length} proxied regression(s)`,
  );
  return out.join('\n');
}
