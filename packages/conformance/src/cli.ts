/**
 * `npm run conformance`: prints the scenario × direct / passthrough / full-chain table and exits 1 on
 * any proxied regression (a check whose status differs from the direct run).
 *
 *   node dist/cli.js [--spec-version 2025-11-25 ...] [--scenario tools-list ...] [--verbose] [--json]
 */
import { parseArgs } from 'node:util';
import { DEFAULT_SPEC_VERSIONS, runConformance } from './run.js';
import { formatReport } from './table.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'spec-version': { type: 'string', multiple: true },
      scenario: { type: 'string', multiple: true },
      node: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      sequential: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const report = await runConformance({
    specVersions: values['spec-version'] ?? DEFAULT_SPEC_VERSIONS,
    scenarios: values.scenario,
    node: values.node,
    parallel: !values.sequential,
    onOutput: values.verbose
      ? (t, v, c) => process.stderr.write(c.replace(/^/gm, `[${v} ${t}] `))
      : undefined,
  });
  process.stdout.write(`${values.json ? JSON.stringify(report, null, 2) : formatReport(report)}\n`);
  return report.regressions.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`conformance: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
