/**
 * The MCP conformance suite (real `@modelcontextprotocol/conformance`, run by a Node 22 binary) against
 * the reference upstream directly, through a passthrough proxy and through the full chain: every
 * proxied result must equal the direct one, and the reference upstream must pass every legacy-era
 * scenario directly (else the comparison would prove little).
 */
import { describe, expect, it } from '@jest/globals';
import { formatReport, runConformance } from '../src/index.js';

describe('MCP conformance suite through Bastion', () => {
  it('gives identical results direct, through passthrough and through the full chain (2025-06-18, 2025-11-25, 2026-07-28)', async () => {
    const report = await runConformance({ specVersions: ['2025-06-18', '2025-11-25', '2026-07-28'] });
    const table = formatReport(report);
    expect({ regressions: report.regressions.map((r) => `${r.specVersion} ${r.scenario}`), table }).toEqual({
      regressions: [],
      table: expect.stringContaining('OK: no proxied regression'),
    });
    const legacy = report.rows.filter((r) => r.specVersion !== '2026-07-28');
    // Every scenario of the two session-era revisions ran on all three targets and passed directly.
    expect(legacy.filter((r) => r.specVersion === '2025-06-18').length).toBeGreaterThanOrEqual(27);
    expect(legacy.filter((r) => r.specVersion === '2025-11-25').length).toBeGreaterThanOrEqual(33);
    expect(legacy.filter((r) => r.results.direct?.failed !== 0).map((r) => r.scenario)).toEqual([]);
    for (const row of legacy) {
      expect(row.results.passthrough?.passed).toBe(row.results.direct?.passed);
      expect(row.results['full-chain']?.passed).toBe(row.results.direct?.passed);
    }
    // The stateless revision's scenarios ran too (the reference upstream is session-era only: see README).
    expect(report.rows.filter((r) => r.specVersion === '2026-07-28').length).toBeGreaterThanOrEqual(30);
  }, 120_000);
});
