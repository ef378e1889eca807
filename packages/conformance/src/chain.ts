/**
 * The full Bastion chain for conformance and soak runs, in the canonical order of PRODUCT.md §1.2:
 * telemetry-edge → audit → auth (anonymous) → tool-filter → telemetry → authz (permissive Cedar).
 * token-exchange and upstream credentials are left out: in anonymous mode there is no inbound token to
 * exchange, and the reference upstream needs no credential (see README, "Design choices").
 */
import { createAuditMiddleware } from '@bastion-mcp/audit';
import { createAnonymousAuthMiddleware } from '@bastion-mcp/auth';
import { createAuthzMiddleware } from '@bastion-mcp/authz';
import type { Middleware } from '@bastion-mcp/proxy-core';
import { createTelemetry } from '@bastion-mcp/telemetry';
import { createToolFilterMiddleware } from '@bastion-mcp/tool-filter';

/** Cedar policy that permits every request (the conformance suite must see the upstream unchanged). */
export const PERMIT_ALL_POLICY = 'permit(principal, action, resource);';

export interface FullChain {
  /** Outermost first, for `startProxyServer({ middlewares })`. */
  readonly middlewares: readonly Middleware[];
  /** Audit events written so far (the audit sink counts them, keeps none). */
  readonly auditEvents: number;
  /** Flush and stop what the proxy does not close itself (telemetry SDK). Call after the proxy closed. */
  close(): Promise<void>;
}

export interface FullChainOptions {
  /** Cedar policies. Default {@link PERMIT_ALL_POLICY}. */
  policies?: readonly string[] | undefined;
  /** Load the OpenTelemetry SDK (traces + metrics, no exporter). Default `true`. */
  telemetry?: boolean | undefined;
}

/** Build the chain's middlewares (audit events go to a counting sink). */
export async function createFullChain(options: FullChainOptions = {}): Promise<FullChain> {
  let auditEvents = 0;
  const audit = createAuditMiddleware({
    sinks: [
      {
        name: 'count',
        async write(events) {
          auditEvents += events.length;
        },
      },
    ],
  });
  const authz = await createAuthzMiddleware({ policies: options.policies ?? [PERMIT_ALL_POLICY] });
  // No-op rules: the filter runs (parses, streams tools/list through its rewriter) but changes nothing.
  const toolFilter = createToolFilterMiddleware({ overrides: {} });
  // Created last: it starts SDK timers that only `close()` stops.
  const telemetry = await createTelemetry({
    enabled: options.telemetry ?? true,
    serviceName: 'bastion-conformance',
    prometheus: false,
  });
  const middlewares: Middleware[] = [
    telemetry.edge,
    audit,
    createAnonymousAuthMiddleware(),
    toolFilter,
    telemetry.middleware,
    authz,
  ];
  return {
    middlewares,
    get auditEvents() {
      return auditEvents;
    },
    async close() {
      await telemetry.shutdown();
    },
  };
}
