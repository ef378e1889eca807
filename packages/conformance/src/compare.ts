/** Compares the suite's results for the same scenario run directly and through a proxy. */
import type { ScenarioResult } from './suite.js';

/** `id:STATUS` of every check, sorted: what must be identical between direct and proxied runs. */
export function signature(result: ScenarioResult | undefined): string[] {
  if (result === undefined) return ['<scenario did not run>'];
  return result.checks.map((c) => `${c.id}:${c.status}`).sort();
}

/** Checks whose status differs (or that exist on one side only), as `id: direct → proxied`. */
export function differences(
  direct: ScenarioResult | undefined,
  proxied: ScenarioResult | undefined,
): string[] {
  const count = (sig: string[]) => {
    const m = new Map<string, number>();
    for (const s of sig) m.set(s, (m.get(s) ?? 0) + 1);
    return m;
  };
  const a = count(signature(direct));
  const b = count(signature(proxied));
  const out: string[] = [];
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const d = (a.get(key) ?? 0) - (b.get(key) ?? 0);
    if (d > 0) out.push(`${key} only direct${d > 1 ? ` (×${d})` : ''}`);
    if (d < 0) out.push(`${key} only proxied${d < -1 ? ` (×${-d})` : ''}`);
  }
  return out.sort();
}
