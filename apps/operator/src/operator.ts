/**
 * The operator process as a library: informers, controller workers while holding the leader lease,
 * a metrics/health HTTP endpoint, graceful shutdown. `main.ts` maps flags and environment onto it;
 * tests start it in-process with a kubeconfig for the operator's own service account.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { ProxyController } from './controller/controller.js';
import { LeaderElector } from './controller/leader.js';
import type { DesiredOptions } from './desired/types.js';
import { KubeClient } from './kube/client.js';
import { createLogger } from './util/logger.js';
import { OperatorMetrics } from './util/metrics.js';
import { DEFAULT_IMAGE } from './version.js';

export interface LeaderElectionConfig {
  /** Namespace of the Lease (the operator's own namespace). */
  readonly namespace: string;
  readonly leaseName?: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
}

export interface OperatorOptions {
  readonly kubeConfig: KubeConfig;
  /** Proxy runner image (default ghcr.io/bastion-mcp/proxyrunner:<version>). */
  readonly image?: string;
  readonly imagePullPolicy?: DesiredOptions['imagePullPolicy'];
  readonly clusterDomain?: string;
  /** Leader election; `false` runs the workers at once (single replica, tests). */
  readonly leaderElection: LeaderElectionConfig | false;
  /** Metrics and health endpoint; `false` disables it. Port 0 picks a free port. */
  readonly metrics?: { host: string; port: number } | false;
  readonly identity?: string;
  readonly workers?: number;
  readonly logger?: Logger;
  /** Called when the lease is lost; the binary exits so a fresh process campaigns again. */
  readonly onLeadershipLost?: () => void;
  /** Development only: allow loopback remotes (`insecureLoopback` RunConfigs). */
  readonly insecureLoopback?: boolean;
  readonly retryBaseDelayMs?: number;
  readonly retryMaxDelayMs?: number;
  readonly watchRetryMs?: number;
}

export interface RunningOperator {
  readonly controller: ProxyController;
  readonly metrics: OperatorMetrics;
  readonly identity: string;
  /** `http://host:port` of the metrics endpoint, when enabled. */
  readonly metricsUrl: string | undefined;
  isLeader(): boolean;
  /** Graceful shutdown: stop workers and watches, release the lease, close the endpoint. */
  close(): Promise<void>;
}

export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const log = options.logger ?? createLogger();
  const identity = options.identity ?? `${hostname()}_${randomBytes(4).toString('hex')}`;
  const clusterDomain = options.clusterDomain ?? 'cluster.local';
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(clusterDomain))
    throw new TypeError('clusterDomain must be a DNS name');
  const client = new KubeClient(options.kubeConfig);
  const metrics = new OperatorMetrics();
  const controller = new ProxyController({
    client,
    log: log.child({ controller: 'mcpremoteproxy' }),
    metrics,
    identity,
    desired: {
      image: options.image ?? DEFAULT_IMAGE,
      clusterDomain,
      insecureLoopback: options.insecureLoopback ?? false,
      ...(options.imagePullPolicy ? { imagePullPolicy: options.imagePullPolicy } : {}),
    },
    ...(options.workers !== undefined ? { workers: options.workers } : {}),
    ...(options.retryBaseDelayMs !== undefined ? { retryBaseDelayMs: options.retryBaseDelayMs } : {}),
    ...(options.retryMaxDelayMs !== undefined ? { retryMaxDelayMs: options.retryMaxDelayMs } : {}),
    ...(options.watchRetryMs !== undefined ? { watchRetryMs: options.watchRetryMs } : {}),
  });

  let synced = false;
  let server: http.Server | undefined;
  let metricsUrl: string | undefined;
  if (options.metrics) {
    server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metrics.render());
      } else if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      } else if (path === '/readyz') {
        res
          .writeHead(synced ? 200 : 503, { 'content-type': 'text/plain' })
          .end(synced ? 'ok' : 'caches not synced');
      } else res.writeHead(404).end();
    });
    const { host, port } = options.metrics;
    await new Promise<void>((resolve, reject) => {
      server?.once('error', reject);
      server?.listen(port, host, () => resolve());
    });
    const addr = server.address() as AddressInfo;
    metricsUrl = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  }

  await controller.startInformers();
  synced = true;
  log.info({ identity }, 'Caches synced');

  let elector: LeaderElector | undefined;
  if (options.leaderElection) {
    const le = options.leaderElection;
    elector = new LeaderElector({
      client,
      namespace: le.namespace,
      name: le.leaseName ?? 'bastion-operator-leader',
      identity,
      ...(le.leaseDurationMs ? { leaseDurationMs: le.leaseDurationMs } : {}),
      ...(le.renewDeadlineMs ? { renewDeadlineMs: le.renewDeadlineMs } : {}),
      ...(le.retryPeriodMs ? { retryPeriodMs: le.retryPeriodMs } : {}),
      log,
      onStartedLeading: () => {
        metrics.leader.set(1);
        controller.runWorkers();
      },
      onStoppedLeading: () => {
        metrics.leader.set(0);
        void controller.stop();
        options.onLeadershipLost?.();
      },
    });
    elector.start();
  } else {
    metrics.leader.set(1);
    controller.runWorkers();
  }

  let closing: Promise<void> | undefined;
  return {
    controller,
    metrics,
    identity,
    metricsUrl,
    isLeader: () => (elector ? elector.isLeader : true),
    close: () => {
      closing ??= (async () => {
        await controller.stop();
        await elector?.stop();
        if (server) await new Promise<void>((resolve) => server?.close(() => resolve()));
        log.info({ identity }, 'Operator stopped');
      })();
      return closing;
    },
  };
}
