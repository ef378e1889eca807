/**
 * "Telemetry off → no SDK loaded": the root entry's static import graph must not reach any
 * OpenTelemetry package; only `src/sdk/**` may, and it is reached solely through the dynamic
 * `@bastion-mcp/telemetry/sdk` import that `createTelemetry` performs when enabled.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import * as api from '../src/index.js';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

/** Static value imports of a file (type-only imports are erased at build time). */
function valueImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms)) {
    if (m[2] === undefined) out.push(m[3]!);
  }
  return out;
}

function graph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const spec of valueImports(file)) {
      if (spec.startsWith('.')) visit(join(dirname(file), spec.replace(/\.js$/, '.ts')));
      else packages.add(spec);
    }
  };
  visit(entry);
  return { files, packages };
}

describe('package entry', () => {
  it('never imports an OpenTelemetry package statically from the root entry', () => {
    const { files, packages } = graph(join(SRC, 'index.ts'));
    expect([...packages].filter((p) => p.startsWith('@opentelemetry/'))).toEqual([]);
    expect([...files].some((f) => f.includes(`${join(SRC, 'sdk')}`))).toBe(false);
  });

  it('does reach the SDK from the sdk entry (the check above is not vacuous)', () => {
    const { packages } = graph(join(SRC, 'sdk', 'index.ts'));
    expect(packages.has('@opentelemetry/sdk-trace-base')).toBe(true);
  });

  it('exports an explicit public API', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'DEFAULT_REDACT_KEYS',
        'INSTRUMENTATION_SCOPE',
        'KnownTools',
        'MCP_DURATION_BUCKETS_SECONDS',
        'MetricName',
        'OTHER_TOOL',
        'REDACTED',
        'TelemetryError',
        'TelemetryErrorCode',
        'classify',
        'createTelemetry',
        'redactArguments',
        'redactValue',
        'requestFacts',
        'resolveOptions',
        'spanNameOf',
      ].sort(),
    );
  });

  it('documents every error code in the README', () => {
    const readme = readFileSync(join(SRC, '..', 'README.md'), 'utf8');
    for (const code of Object.values(api.TelemetryErrorCode)) expect(readme).toContain(code);
  });
});
