/** Small helpers for tests against the testkit IdP. */
import type { RecordedOAuthRequest, TestIdp } from '@bastion-mcp/testkit';

/** The last request the IdP recorded at `endpoint` (throws when there is none). */
export function lastRequest(idp: TestIdp, endpoint: RecordedOAuthRequest['endpoint']): RecordedOAuthRequest {
  const found = idp.requests.filter((r) => r.endpoint === endpoint).at(-1);
  if (!found) throw new Error(`the IdP recorded no ${endpoint} request`);
  return found;
}

/**
 * A fetch that calls the real endpoint and patches its JSON answer on the way back (`undefined`
 * removes a field). For answers a conformant IdP never gives (no `exp`, a string `active`): the
 * request still reaches the real IdP with a real token.
 */
export function rewritingFetch(
  patch: Record<string, unknown>,
): (input: string | URL, init?: RequestInit) => Promise<Response> {
  return async (input, init) => {
    const res = await fetch(input, init);
    const doc = { ...((await res.json()) as Record<string, unknown>), ...patch };
    const body = JSON.stringify(Object.fromEntries(Object.entries(doc).filter(([, v]) => v !== undefined)));
    return new Response(body, { status: res.status, headers: { 'content-type': 'application/json' } });
  };
}

/** Resolves once `condition()` holds, polling on the event loop (no timing assumption). */
export async function until(condition: () => boolean, what = 'condition'): Promise<void> {
  for (let i = 0; i < 5_000; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`${what} never became true`);
}
