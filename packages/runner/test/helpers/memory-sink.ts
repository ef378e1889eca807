import type { AuditEvent, AuditSink } from '@bastion-mcp/audit';

/** An in-memory audit sink: the events the real audit middleware wrote, for assertions. */
export function memorySink(): AuditSink & { events: AuditEvent[]; waitFor(n: number): Promise<void> } {
  const events: AuditEvent[] = [];
  let waiters: Array<() => void> = [];
  return {
    name: 'memory',
    events,
    async write(batch) {
      events.push(...batch);
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    },
    async waitFor(n) {
      while (events.length < n) await new Promise<void>((r) => waiters.push(r));
    },
  };
}
