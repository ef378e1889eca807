/**
 * The MCP conformance suite (real `@modelcontextprotocol/conformance`, run by a Node 22 binary) against
 * the dual-era reference upstream directly, through a passthrough proxy and through the full chain:
 * every proxied result must equal the direct one (up to the tracked baseline), and the reference
 * upstream must pass every scenario of all three revisions directly (else the comparison proves little).
 */
import { describe, expect, it } from '@jest/globals';
import { formatReport, KNOWN_DIFFERENCES, runConformance } from '../src/index.js';

/** Every 2026-07-28 server scenario of the pinned suite (0.2.0-alpha.12, `--suite all`). */
const MODERN_SCENARIOS = [
  'caching',
  'completion-complete',
  'dns-rebinding-protection',
  'http-custom-header-server-validation',
  'http-header-validation',
  'input-required-result-basic-elicitation',
  'input-required-result-basic-list-roots',
  'input-required-result-basic-sampling',
  'input-required-result-capability-check',
  'input-required-result-ignore-extra-params',
  'input-required-result-missing-input-response',
  'input-required-result-multi-round',
  'input-required-result-multiple-input-requests',
  'input-required-result-non-tool-request',
  'input-required-result-request-state',
  'input-required-result-result-type',
  'input-required-result-tampered-state',
  'input-required-result-unsupported-methods',
  'input-required-result-validate-input',
  'json-schema-2020-12',
  'prompts-get-embedded-resource',
  'prompts-get-simple',
  'prompts-get-with-args',
  'prompts-get-with-image',
  'prompts-list',
  'resources-list',
  'resources-read-binary',
  'resources-read-text',
  'resources-templates-read',
  'sep-2164-resource-not-found',
  'server-sse-multiple-streams',
  'server-stateless',
  'tools-call-audio',
  'tools-call-embedded-resource',
  'tools-call-error',
  'tools-call-image',
  'tools-call-mixed-content',
  'tools-call-simple-text',
  'tools-call-with-progress',
  'tools-list',
];

describe('MCP conformance suite through Bastion', () => {
  it('passes every scenario directly and gives identical results through passthrough and the full chain (2025-06-18, 2025-11-25, 2026-07-28)', async () => {
    const report = await runConformance({ specVersions: ['2025-06-18', '2025-11-25', '2026-07-28'] });
    const table = formatReport(report);
    expect({
      regressions: report.regressions.map((r) => `${r.specVersion} ${r.scenario}`),
      stale: report.staleKnownDifferences,
      table,
    }).toEqual({ regressions: [], stale: [], table: expect.stringContaining('OK: no proxied regression') });

    const of = (v: string) => report.rows.filter((r) => r.specVersion === v);
    expect(of('2025-06-18').length).toBeGreaterThanOrEqual(27);
    expect(of('2025-11-25').length).toBeGreaterThanOrEqual(33);
    // The 2026-07-28 pass set, exactly: a scenario the reference stops passing (or the suite stops
    // running) shows up here.
    expect(of('2026-07-28').map((r) => r.scenario)).toEqual(MODERN_SCENARIOS);
    // No FAILURE check directly, in any revision.
    expect(report.directFailures.map((r) => `${r.specVersion} ${r.scenario}`)).toEqual([]);
    for (const row of report.rows) {
      expect(row.results.direct?.passed).toBeGreaterThan(0);
      expect(row.results.passthrough?.passed).toBe(row.results.direct?.passed);
      if (row.known['full-chain'].length === 0) {
        expect(row.results['full-chain']?.passed).toBe(row.results.direct?.passed);
      }
    }
    // The tracked full-chain differences are exactly the baseline (see src/known-differences.ts).
    expect(
      report.knownDifferences.flatMap((r) =>
        r.known['full-chain'].map((d) => `${r.specVersion} ${r.scenario} ${d}`),
      ),
    ).toEqual(
      KNOWN_DIFFERENCES.flatMap((k) => [
        `${k.specVersion} ${k.scenario} ${k.check}:FAILURE only proxied`,
        `${k.specVersion} ${k.scenario} ${k.check}:SUCCESS only direct`,
      ]).sort(),
    );
  }, 120_000);
});
