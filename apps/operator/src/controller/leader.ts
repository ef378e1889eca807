/**
 * Leader election on a coordination.k8s.io/v1 Lease (client-go semantics). Expiry is judged from the
 * time this replica last saw the lease record change, not from the holder's clock, so clock skew
 * between nodes cannot make two leaders. Optimistic concurrency (resourceVersion) arbitrates races.
 */
import type { KubeClient } from '../kube/client.js';
import { isNotFound, KubeApiError } from '../errors.js';

export interface LeaderElectionOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
  readonly log: {
    info(o: Record<string, unknown>, m: string): void;
    warn(o: Record<string, unknown>, m: string): void;
  };
}

interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}
interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

const microTime = (d: Date) => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderElector {
  readonly #o: Required<
    Omit<LeaderElectionOptions, 'onStartedLeading' | 'onStoppedLeading' | 'log' | 'client'>
  > &
    LeaderElectionOptions;
  #leading = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #observed: { record: string; at: number } | undefined;
  #lastRenew = 0;

  constructor(options: LeaderElectionOptions) {
    const leaseDurationMs = options.leaseDurationMs ?? 15_000;
    const renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    const retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (!options.identity) throw new TypeError('identity is required');
    if (!(leaseDurationMs > renewDeadlineMs))
      throw new TypeError('leaseDurationMs must be greater than renewDeadlineMs');
    if (!(renewDeadlineMs > retryPeriodMs))
      throw new TypeError('renewDeadlineMs must be greater than retryPeriodMs');
    this.#o = { ...options, leaseDurationMs, renewDeadlineMs, retryPeriodMs };
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  start(): void {
    this.#stopped = false;
    void this.#tick();
  }

  /**
   * Stop campaigning; a leader releases the lease so another replica takes over at once. A voluntary
   * stop does not call `onStoppedLeading` (that callback means the lease was lost).
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (this.#leading) {
      this.#leading = false;
      try {
        const lease = await this.#o.client.get<Lease>('Lease', this.#o.namespace, this.#o.name);
        if (lease.spec?.holderIdentity === this.#o.identity) {
          const now = microTime(new Date());
          await this.#o.client.replace('Lease', this.#o.namespace, this.#o.name, {
            ...lease,
            spec: {
              ...lease.spec,
              holderIdentity: null,
              leaseDurationSeconds: 1,
              renewTime: now,
              acquireTime: now,
            },
          });
        }
      } catch (err) {
        this.#o.log.warn({ err: (err as Error).message }, 'Failed to release leader lease');
      }
    }
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    let ok = false;
    try {
      ok = await this.#tryAcquireOrRenew();
    } catch (err) {
      this.#o.log.warn({ err: (err as Error).message }, 'Leader election attempt failed');
    }
    if (this.#stopped) return;
    const now = Date.now();
    if (ok) {
      this.#lastRenew = now;
      if (!this.#leading) {
        this.#leading = true;
        this.#o.log.info(
          { lease: `${this.#o.namespace}/${this.#o.name}`, identity: this.#o.identity },
          'Acquired leader lease',
        );
        this.#o.onStartedLeading();
      }
    } else if (this.#leading && now - this.#lastRenew > this.#o.renewDeadlineMs) {
      this.#leading = false;
      this.#o.log.warn({ identity: this.#o.identity }, 'Lost leader lease');
      this.#o.onStoppedLeading();
    }
    this.#timer = setTimeout(() => void this.#tick(), this.#o.retryPeriodMs);
    this.#timer.unref?.();
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { client, namespace, name, identity } = this.#o;
    const now = new Date();
    const durationSeconds = Math.ceil(this.#o.leaseDurationMs / 1000);
    let lease: Lease;
    try {
      lease = await client.get<Lease>('Lease', namespace, name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await client.create('Lease', namespace, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds: durationSeconds,
            acquireTime: microTime(now),
            renewTime: microTime(now),
            leaseTransitions: 0,
          },
        });
        return true;
      } catch (createErr) {
        if (createErr instanceof KubeApiError && createErr.status === 409) return false;
        throw createErr;
      }
    }
    const spec = lease.spec ?? {};
    const record = JSON.stringify(spec);
    if (this.#observed?.record !== record) this.#observed = { record, at: Date.now() };
    const holder = spec.holderIdentity ?? '';
    const duration = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    const expired = !holder || Date.now() - (this.#observed?.at ?? 0) > duration;
    if (holder !== identity && !expired) return false;
    const next: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      renewTime: microTime(now),
      acquireTime: holder === identity && spec.acquireTime ? spec.acquireTime : microTime(now),
      leaseTransitions: (spec.leaseTransitions ?? 0) + (holder === identity ? 0 : 1),
    };
    try {
      const updated = await client.replace<Lease>('Lease', namespace, name, { ...lease, spec: next });
      this.#observed = { record: JSON.stringify(updated.spec ?? {}), at: Date.now() };
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) return false;
      throw err;
    }
  }
}
