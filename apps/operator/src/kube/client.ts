/**
 * A small Kubernetes REST client on top of `@kubernetes/client-node`'s KubeConfig (TLS, token and
 * client-certificate auth): exact control over content types (server-side apply, merge patch),
 * subresources and error classification, without API discovery round trips.
 */
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from '../desired/types.js';
import { KubeApiError } from '../errors.js';
import { type KnownKind, resourcePath } from './resources.js';

export interface RequestOptions {
  readonly body?: unknown;
  readonly contentType?: string;
  readonly query?: Record<string, string | number | boolean | undefined>;
  readonly timeoutMs?: number;
}

export interface KubeList<T> {
  readonly items: T[];
  readonly metadata: { resourceVersion?: string; continue?: string };
}

export class KubeClient {
  readonly kubeConfig: KubeConfig;
  readonly #server: URL;
  readonly #timeoutMs: number;
  /** Number of requests per verb (reads, writes), for metrics and tests. */
  readonly requestCounts = new Map<string, number>();

  constructor(kubeConfig: KubeConfig, options: { timeoutMs?: number } = {}) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new TypeError('kubeConfig: no current cluster');
    this.kubeConfig = kubeConfig;
    this.#server = new URL(cluster.server);
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    this.requestCounts.set(method, (this.requestCounts.get(method) ?? 0) + 1);
    const url = new URL(this.#server.pathname.replace(/\/$/, '') + path, this.#server);
    for (const [k, v] of Object.entries(options.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const reqOptions: https.RequestOptions = {
      method,
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || undefined,
      path: url.pathname + url.search,
      headers: {
        accept: 'application/json',
        ...(body !== undefined
          ? {
              'content-type': options.contentType ?? 'application/json',
              'content-length': Buffer.byteLength(body),
            }
          : {}),
      },
    };
    await this.kubeConfig.applyToHTTPSOptions(reqOptions);
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise<T>((resolve, reject) => {
      const req = transport.request(reqOptions, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) =>
          reject(new KubeApiError(method, path, 0, 'NetworkError', err.message, { cause: err })),
        );
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          if (status >= 200 && status < 300) return resolve(parsed as T);
          const st = (parsed ?? {}) as { reason?: string; message?: string };
          reject(
            new KubeApiError(method, path, status, st.reason ?? 'Unknown', st.message ?? text.slice(0, 300)),
          );
        });
      });
      req.setTimeout(options.timeoutMs ?? this.#timeoutMs, () => req.destroy(new Error('request timed out')));
      req.on('error', (err) =>
        reject(new KubeApiError(method, path, 0, 'NetworkError', err.message, { cause: err })),
      );
      req.end(body);
    });
  }

  get<T = KubeObject>(kind: KnownKind, namespace: string, name: string): Promise<T> {
    return this.request<T>('GET', resourcePath(kind, namespace, name));
  }

  list<T = KubeObject>(kind: KnownKind, namespace?: string, labelSelector?: string): Promise<KubeList<T>> {
    return this.request<KubeList<T>>('GET', resourcePath(kind, namespace), { query: { labelSelector } });
  }

  create<T = KubeObject>(kind: KnownKind, namespace: string, body: unknown): Promise<T> {
    return this.request<T>('POST', resourcePath(kind, namespace), { body });
  }

  replace<T = KubeObject>(kind: KnownKind, namespace: string, name: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', resourcePath(kind, namespace, name), { body });
  }

  delete(kind: KnownKind, namespace: string, name: string): Promise<unknown> {
    return this.request('DELETE', resourcePath(kind, namespace, name));
  }

  /** Server-side apply of a full desired object, owned by `fieldManager`. */
  apply<T = KubeObject>(
    kind: KnownKind,
    obj: KubeObject,
    fieldManager: string,
    subresource?: string,
  ): Promise<T> {
    const ns = obj.metadata?.namespace;
    const name = obj.metadata?.name;
    if (!ns || !name) throw new TypeError('apply: metadata.namespace and metadata.name are required');
    return this.request<T>('PATCH', resourcePath(kind, ns, name, subresource), {
      body: obj,
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager, force: true },
    });
  }

  /** JSON merge patch (RFC 7386), e.g. of the status subresource. */
  mergePatch<T = KubeObject>(
    kind: KnownKind,
    namespace: string,
    name: string,
    patch: unknown,
    subresource?: string,
  ): Promise<T> {
    return this.request<T>('PATCH', resourcePath(kind, namespace, name, subresource), {
      body: patch,
      contentType: 'application/merge-patch+json',
    });
  }
}
