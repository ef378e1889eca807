/**
 * The MCPRemoteProxy controller: informers feed a keyed work queue; workers run a level-triggered
 * reconcile (read caches → pure desired state → server-side apply of the children → status), so the
 * same world always produces the same writes and an unchanged world produces none.
 *
 * Error policy: transient API errors (network, 409, 429, 5xx) requeue with exponential backoff per
 * key; everything the user must fix (invalid spec, missing reference, an apply the API rejects) is
 * reported in conditions and Events and is NOT requeued: the watches on the proxy and on every
 * object it references wake it up when something changes.
 */
import type { Logger } from 'pino';
import type { ProxyStatus } from '../api/schemas.js';
import { type DesiredState, desiredState } from '../desired/desired-state.js';
import { childNames } from '../desired/names.js';
import type { DesiredOptions, KubeObject, ProxyObject, RefKind } from '../desired/types.js';
import { isTransient, KubeApiError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import { Informer } from '../kube/informer.js';
import type { KnownKind } from '../kube/resources.js';
import type { OperatorMetrics } from '../util/metrics.js';
import { EventRecorder } from './events.js';
import { ReferenceIndex } from './ref-index.js';
import { changedConditions, computeStatus, statusEqual } from './status.js';
import { WorkQueue } from './workqueue.js';

export const FIELD_MANAGER = 'bastion-operator';
const MANAGED_SELECTOR = 'app.kubernetes.io/managed-by=bastion-operator';

export interface ControllerOptions {
  readonly client: KubeClient;
  readonly desired: DesiredOptions;
  readonly log: Logger;
  readonly metrics: OperatorMetrics;
  /** Identity of this replica (Events' reportingInstance). */
  readonly identity: string;
  readonly workers?: number;
  /** Per-key retry backoff after transient errors. */
  readonly retryBaseDelayMs?: number;
  readonly retryMaxDelayMs?: number;
  /** Restart delay of a failed watch. */
  readonly watchRetryMs?: number;
}

const REF_KINDS: readonly RefKind[] = [
  'Secret',
  'ConfigMap',
  'MCPOIDCConfig',
  'MCPExternalAuthConfig',
  'MCPToolConfig',
];
const CHILD_KINDS = ['ServiceAccount', 'ConfigMap', 'Service', 'Deployment'] as const;

export class ProxyController {
  readonly #o: ControllerOptions;
  readonly #queue: WorkQueue;
  readonly #index = new ReferenceIndex();
  readonly #events: EventRecorder;
  readonly #informers = new Map<string, Informer>();
  #workers: Promise<void>[] = [];
  #running = false;
  /** Reconciles run so far (tests use it to prove there is no hot loop). */
  reconcileCount = 0;

  constructor(options: ControllerOptions) {
    if (!options.desired.image) throw new TypeError('desired.image is required');
    const workers = options.workers ?? 2;
    if (!Number.isInteger(workers) || workers < 1) throw new TypeError('workers must be a positive integer');
    this.#o = { ...options, workers };
    this.#queue = new WorkQueue({
      baseDelayMs: options.retryBaseDelayMs ?? 500,
      maxDelayMs: options.retryMaxDelayMs ?? 300_000,
    });
    this.#events = new EventRecorder(options.client, options.identity, options.log);
    const infLog = options.log;
    const make = (kind: KnownKind, labelSelector?: string) => {
      const inf = new Informer(options.client, kind, {
        log: infLog,
        ...(labelSelector ? { labelSelector } : {}),
        ...(options.watchRetryMs ? { initialBackoffMs: options.watchRetryMs } : {}),
      });
      this.#informers.set(kind, inf);
      return inf;
    };
    const proxies = make('MCPRemoteProxy');
    for (const ev of ['add', 'update', 'delete'] as const) proxies.on(ev, (o) => this.#enqueueObject(o));
    for (const kind of REF_KINDS) {
      const inf = make(kind);
      for (const ev of ['add', 'update', 'delete'] as const)
        inf.on(ev, (o) => this.#enqueueReferrers(kind, o));
    }
    // owned children (ConfigMaps come from the ConfigMap informer above)
    for (const kind of ['ServiceAccount', 'Service', 'Deployment'] as const) {
      const inf = make(kind, MANAGED_SELECTOR);
      for (const ev of ['add', 'update', 'delete'] as const) inf.on(ev, (o) => this.#enqueueOwner(o));
    }
    for (const ev of ['update', 'delete'] as const)
      this.#informer('ConfigMap').on(ev, (o) => this.#enqueueOwner(o));
  }

  /** Start the informers and wait until every cache holds a full list. */
  async startInformers(): Promise<void> {
    for (const inf of this.#informers.values()) inf.start();
    await Promise.all([...this.#informers.values()].map((i) => i.synced));
  }

  /** Start the workers (only while leading) and enqueue every proxy. */
  runWorkers(): void {
    if (this.#running) return;
    this.#running = true;
    for (const p of this.#informer('MCPRemoteProxy').list()) this.#enqueueObject(p);
    for (let i = 0; i < (this.#o.workers ?? 2); i++) this.#workers.push(this.#worker());
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#queue.shutDown();
    for (const inf of this.#informers.values()) inf.stop();
    await Promise.all(this.#workers);
    this.#workers = [];
  }

  #informer(kind: KnownKind): Informer {
    const inf = this.#informers.get(kind);
    if (!inf) throw new Error(`no informer for ${kind}`);
    return inf;
  }

  #enqueueObject(o: KubeObject): void {
    const ns = o.metadata?.namespace;
    const name = o.metadata?.name;
    if (ns && name) this.#add(`${ns}/${name}`);
  }

  #enqueueReferrers(kind: RefKind, o: KubeObject): void {
    const ns = o.metadata?.namespace;
    const name = o.metadata?.name;
    if (!ns || !name) return;
    for (const key of this.#index.proxiesReferencing(kind, ns, name)) this.#add(key);
  }

  #enqueueOwner(o: KubeObject): void {
    const owner = o.metadata?.ownerReferences?.find((r) => r.controller && r.kind === 'MCPRemoteProxy');
    const ns = o.metadata?.namespace;
    if (owner && ns) this.#add(`${ns}/${owner.name}`);
  }

  #add(key: string): void {
    this.#queue.add(key);
    this.#o.metrics.queueDepth.set(this.#queue.length);
  }

  async #worker(): Promise<void> {
    for (;;) {
      const key = await this.#queue.get();
      if (key === undefined) return;
      this.#o.metrics.queueDepth.set(this.#queue.length);
      const started = performance.now();
      try {
        await this.reconcile(key);
        this.#queue.forget(key);
        this.#o.metrics.reconciles.inc({ result: 'success' });
      } catch (err) {
        if (!this.#running) return;
        const [namespace, name] = key.split('/');
        if (isTransient(err)) {
          const delay = this.#queue.addRateLimited(key);
          this.#o.metrics.reconciles.inc({ result: 'requeue' });
          this.#o.log.warn(
            { namespace, name, err: (err as Error).message, retryInMs: delay },
            'Reconcile failed, will retry',
          );
        } else {
          this.#o.metrics.reconciles.inc({ result: 'error' });
          this.#o.log.error({ namespace, name, err: (err as Error).message }, 'Reconcile failed');
        }
      } finally {
        this.#o.metrics.reconcileSeconds.observe((performance.now() - started) / 1000);
        this.#queue.done(key);
      }
    }
  }

  /** One level-triggered reconcile of `namespace/name`. Throws only transient errors. */
  async reconcile(key: string): Promise<void> {
    this.reconcileCount++;
    const [namespace = '', name = ''] = key.split('/');
    const proxy = this.#informer('MCPRemoteProxy').get(namespace, name) as ProxyObject | undefined;
    if (!proxy) {
      // deleted: the garbage collector removes the children through their owner references
      this.#index.remove(key);
      return;
    }
    if (proxy.metadata.deletionTimestamp) return;
    const log = this.#o.log.child({ namespace, name });
    const lookup = (kind: RefKind, refName: string) => this.#informer(kind).get(namespace, refName);
    const desired = desiredState(proxy, lookup, this.#o.desired);
    this.#index.set(key, namespace, desired.references);

    let deployment = this.#informer('Deployment').get(namespace, childNames(name).deployment);
    let applyError: string | undefined;
    if (desired.children) {
      for (const child of desired.children) {
        const kind = child.kind as (typeof CHILD_KINDS)[number];
        try {
          const applied = await this.#o.client.apply(kind, child, FIELD_MANAGER);
          this.#o.metrics.applies.inc({ kind, result: 'success' });
          if (kind === 'Deployment') deployment = applied;
        } catch (err) {
          this.#o.metrics.applies.inc({ kind, result: 'error' });
          if (isTransient(err)) throw err;
          // the API refused what we generated (e.g. a podTemplateSpec override): a spec problem
          applyError = `${kind} ${child.metadata?.name}: ${err instanceof KubeApiError ? err.message : String(err)}`;
          log.error({ kind, err: applyError }, 'Apply rejected');
          break;
        }
      }
    }
    await this.#writeStatus(proxy, desired, deployment, applyError, log);
  }

  async #writeStatus(
    proxy: ProxyObject,
    desired: DesiredState,
    deployment: KubeObject | undefined,
    applyError: string | undefined,
    log: Logger,
  ): Promise<void> {
    const previous = proxy.status as ProxyStatus | undefined;
    const status = computeStatus(
      proxy.metadata.generation ?? 0,
      previous,
      desired,
      deployment,
      new Date(),
      applyError,
    );
    if (statusEqual(previous, status)) return;
    const { namespace, name } = proxy.metadata;
    // merge patch replaces the whole conditions list: this controller owns every condition
    await this.#o.client.mergePatch('MCPRemoteProxy', namespace, name, { status }, 'status');
    this.#o.metrics.statusWrites.inc();
    log.info({ phase: status.phase, generation: proxy.metadata.generation }, 'Updated MCPRemoteProxy status');
    for (const c of changedConditions(previous, status)) {
      if (c.type === 'RemoteReachable') continue;
      const type = c.status === 'False' ? 'Warning' : 'Normal';
      await this.#events.record(proxy, type, c.reason, `${c.type}=${c.status}: ${c.message}`);
    }
  }
}
