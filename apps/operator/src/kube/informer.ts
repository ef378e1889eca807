/**
 * A shared informer: `@kubernetes/client-node`'s ListWatch (list, then watch from the list's
 * resourceVersion, relist on 410 Gone) plus what it lacks: restart with exponential backoff after
 * errors, a `synced` promise, and a clean stop.
 */
import { ListWatch, Watch } from '@kubernetes/client-node';
import type { KubeObject } from '../desired/types.js';
import type { KubeClient } from './client.js';
import { type KnownKind, RESOURCES, resourcePath } from './resources.js';

export type InformerEvent = 'add' | 'update' | 'delete';

export interface InformerLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface InformerOptions {
  readonly labelSelector?: string;
  readonly log: InformerLogger;
  /** First restart delay after a watch or list error (doubles up to `maxBackoffMs`). */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

export class Informer<T extends KubeObject = KubeObject> {
  readonly kind: KnownKind;
  readonly #lw: ListWatch<T>;
  readonly #log: InformerLogger;
  readonly #initialBackoffMs: number;
  readonly #maxBackoffMs: number;
  #backoffMs: number;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #resolveSynced!: () => void;
  readonly synced: Promise<void>;

  constructor(client: KubeClient, kind: KnownKind, options: InformerOptions) {
    this.kind = kind;
    this.#log = options.log;
    this.#initialBackoffMs = options.initialBackoffMs ?? 500;
    this.#maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.#backoffMs = this.#initialBackoffMs;
    this.synced = new Promise((resolve) => {
      this.#resolveSynced = resolve;
    });
    const listFn = async () => {
      const list = await client.list<T>(kind, undefined, options.labelSelector);
      // list items carry no apiVersion/kind; watch events do: make them uniform
      for (const item of list.items) {
        item.apiVersion ??= RESOURCES[kind].apiVersion;
        item.kind ??= kind;
      }
      this.#backoffMs = this.#initialBackoffMs;
      queueMicrotask(() => this.#resolveSynced());
      return { apiVersion: 'v1', kind: 'List', items: list.items, metadata: list.metadata };
    };
    this.#lw = new ListWatch<T>(
      resourcePath(kind),
      new Watch(client.kubeConfig),
      listFn,
      false,
      options.labelSelector,
    );
    this.#lw.on('error', (err: unknown) => this.#restart(err));
  }

  on(event: InformerEvent, cb: (obj: T) => void): void {
    this.#lw.on(event, cb);
  }

  start(): void {
    this.#stopped = false;
    void this.#lw.start();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    void this.#lw.stop();
  }

  get(namespace: string, name: string): T | undefined {
    return this.#lw.get(name, namespace);
  }

  list(namespace?: string): T[] {
    return [...this.#lw.list(namespace)];
  }

  #restart(err: unknown): void {
    if (this.#stopped) return;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, this.#maxBackoffMs);
    this.#log.warn(
      { kind: this.kind, err: err instanceof Error ? err.message : String(err), retryInMs: delay },
      'Watch failed, restarting',
    );
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      if (!this.#stopped) void this.#lw.start();
    }, delay);
    this.#timer.unref?.();
  }
}
