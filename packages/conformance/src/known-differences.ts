/**
 * Baseline of proxied differences that are understood and tracked (a Bastion behaviour owned by
 * another package, reported to its owner). A listed difference does not fail the run; a listed one that
 * no longer occurs is reported as stale so the baseline shrinks when the cause is fixed.
 */
import type { Target } from './run.js';

export interface KnownDifference {
  specVersion: string;
  scenario: string;
  target: Exclude<Target, 'direct'>;
  /** Suite check id whose status differs from the direct run. */
  check: string;
  /** Why, and where it is tracked. */
  reason: string;
}

/**
 * Empty: the last entries (authz's 403 for unknown methods, and for the 2026-07-28-removed
 * `resources/(un)subscribe`) went when authz started answering those like a server without the method
 * (404/-32601 from 2026-07-28 on).
 */
export const KNOWN_DIFFERENCES: readonly KnownDifference[] = [];

/** The check id of a `differences()` line (`<id>:<STATUS> only direct|proxied`). */
export function checkIdOf(difference: string): string {
  const head = difference.split(' ')[0] ?? '';
  const colon = head.lastIndexOf(':');
  return colon < 0 ? head : head.slice(0, colon);
}
