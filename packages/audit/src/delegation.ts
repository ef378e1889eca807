/** Delegation chain from nested RFC 8693 `act` claims. */
import type { AuditDelegation } from './event.js';

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v.slice(0, 512) : undefined;
}

/**
 * Walk `claims.act` (the current actor), then `act.act` (the actor before it) and so on, at most
 * `maxDepth` levels. Returns `undefined` when the token carries no `act` claim.
 */
export function delegationOf(
  claims: Readonly<Record<string, unknown>> | undefined,
  maxDepth: number,
): AuditDelegation | undefined {
  if (!claims || !('act' in claims) || claims.act === undefined) return undefined;
  const chain: AuditDelegation['chain'] = [];
  let act: unknown = claims.act;
  while (act !== undefined) {
    if (typeof act !== 'object' || act === null || Array.isArray(act)) {
      return { chain, truncated: false, malformed: true };
    }
    if (chain.length === maxDepth) return { chain, truncated: true, malformed: false };
    const a = act as Record<string, unknown>;
    const actor: AuditDelegation['chain'][number] = {};
    const sub = str(a.sub);
    const iss = str(a.iss);
    const clientId = str(a.client_id);
    if (sub !== undefined) actor.sub = sub;
    if (iss !== undefined) actor.iss = iss;
    if (clientId !== undefined) actor.clientId = clientId;
    chain.push(actor);
    act = a.act;
  }
  return { chain, truncated: false, malformed: false };
}
