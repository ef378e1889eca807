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

const UNKNOWN_METHOD =
  'authz `defaultUnknownMethod: "deny"` (the default) answers methods it cannot classify with 403 ' +
  '"Access denied by policy" without consulting Cedar; the upstream answers 404/-32601';
const REMOVED_SUBSCRIBE =
  'authz classifies resources/subscribe|unsubscribe as resource targets in every era; the 2026-07-28 ' +
  'probe has no params.uri, so authz denies it as a "malformed resource request" (403) where the ' +
  'upstream answers 404/-32601 (the methods were removed in 2026-07-28)';

export const KNOWN_DIFFERENCES: readonly KnownDifference[] = [
  {
    specVersion: '2026-07-28',
    scenario: 'server-stateless',
    target: 'full-chain',
    check: 'sep-2575-http-server-method-not-found-404',
    reason: UNKNOWN_METHOD,
  },
  {
    specVersion: '2026-07-28',
    scenario: 'server-stateless',
    target: 'full-chain',
    check: 'sep-2575-http-server-method-not-found-404-resources-subscribe',
    reason: REMOVED_SUBSCRIBE,
  },
  {
    specVersion: '2026-07-28',
    scenario: 'server-stateless',
    target: 'full-chain',
    check: 'sep-2575-http-server-method-not-found-404-resources-unsubscribe',
    reason: REMOVED_SUBSCRIBE,
  },
];

/** The check id of a `differences()` line (`<id>:<STATUS> only direct|proxied`). */
export function checkIdOf(difference: string): string {
  const head = difference.split(' ')[0] ?? '';
  const colon = head.lastIndexOf(':');
  return colon < 0 ? head : head.slice(0, colon);
}
