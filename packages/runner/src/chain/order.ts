/**
 * The canonical chain order (PRODUCT.md §1.2), outermost first, as middleware names. Request guards
 * (body limit, Origin/Host, batch rejection, parse-once) are proxy-core's and run before all of these;
 * the forwarder runs after them.
 *
 * Two observers are not policy layers and never answer a request: `access-log` (only when asked for)
 * and `telemetry-edge` (the outer half of telemetry that opens the span so answers of the outer
 * layers — auth 401s, tool-filter errors — are measured too). They sit outside audit.
 */
export const CHAIN_ORDER = [
  'access-log',
  'telemetry-edge',
  'audit',
  'auth',
  'token-exchange',
  'tool-filter',
  'telemetry',
  'authz',
  'upstream-credential',
] as const;

export type ChainLayer = (typeof CHAIN_ORDER)[number];

/** Throws when `names` is not a subsequence of {@link CHAIN_ORDER} (a bug in chain assembly). */
export function assertCanonicalOrder(names: readonly string[]): void {
  let last = -1;
  for (const name of names) {
    const i = (CHAIN_ORDER as readonly string[]).indexOf(name);
    if (i < 0 || i <= last) {
      throw new Error(`middleware "${name}" is out of the canonical order (${CHAIN_ORDER.join(' → ')})`);
    }
    last = i;
  }
}
