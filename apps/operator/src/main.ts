#!/usr/bin/env node
/** `bastion-operator`: flags and environment → `startOperator`. */
import { KubeConfig } from '@kubernetes/client-node';
import { Command, InvalidArgumentError, Option } from 'commander';
import { startOperator } from './operator.js';
import { createLogger } from './util/logger.js';
import { DEFAULT_IMAGE, VERSION } from './version.js';

function hostPort(value: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(value);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port > 65535) throw new InvalidArgumentError('expected host:port, e.g. 0.0.0.0:8080');
  return { host: m[1] || '0.0.0.0', port };
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

const program = new Command()
  .name('bastion-operator')
  .description('Kubernetes operator for Bastion MCPRemoteProxy resources')
  .version(VERSION)
  .addOption(
    new Option('--kubeconfig <path>', 'kubeconfig file (default: in-cluster, then $KUBECONFIG)').env(
      'KUBECONFIG',
    ),
  )
  .addOption(
    new Option('--image <ref>', 'proxy runner image').env('BASTION_PROXYRUNNER_IMAGE').default(DEFAULT_IMAGE),
  )
  .addOption(
    new Option('--image-pull-policy <policy>', 'proxy runner imagePullPolicy').choices([
      'Always',
      'IfNotPresent',
      'Never',
    ]),
  )
  .addOption(
    new Option('--namespace <ns>', 'namespace of the leader Lease')
      .env('POD_NAMESPACE')
      .default('bastion-system'),
  )
  .addOption(new Option('--no-leader-elect', 'run without leader election (single replica only)'))
  .addOption(new Option('--lease-name <name>', 'leader Lease name').default('bastion-operator-leader'))
  .addOption(
    new Option('--metrics-bind-address <host:port>', 'metrics and health endpoint')
      .default(hostPort('0.0.0.0:8080'), '0.0.0.0:8080')
      .argParser(hostPort),
  )
  .addOption(new Option('--cluster-domain <domain>', 'cluster DNS domain').default('cluster.local'))
  .addOption(new Option('--workers <n>', 'concurrent reconciles').default(2).argParser(positiveInt))
  .addOption(new Option('--identity <id>', 'leader election identity').env('POD_NAME'))
  .addOption(
    new Option('--log-level <level>', 'log level')
      .choices(['trace', 'debug', 'info', 'warn', 'error'])
      .default('info'),
  )
  .addOption(
    new Option('--dev-insecure-loopback', 'DEVELOPMENT ONLY: allow loopback remote URLs').default(false),
  );

program.parse();
const opts = program.opts<{
  kubeconfig?: string;
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  namespace: string;
  leaderElect: boolean;
  leaseName: string;
  metricsBindAddress: { host: string; port: number };
  clusterDomain: string;
  workers: number;
  identity?: string;
  logLevel: string;
  devInsecureLoopback: boolean;
}>();

const log = createLogger(opts.logLevel);
const kc = new KubeConfig();
try {
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else kc.loadFromDefault();
} catch (err) {
  log.fatal({ err: (err as Error).message }, 'Cannot load Kubernetes client configuration');
  process.exit(1);
}

try {
  const operator = await startOperator({
    kubeConfig: kc,
    image: opts.image,
    ...(opts.imagePullPolicy ? { imagePullPolicy: opts.imagePullPolicy } : {}),
    clusterDomain: opts.clusterDomain,
    leaderElection: opts.leaderElect ? { namespace: opts.namespace, leaseName: opts.leaseName } : false,
    metrics: opts.metricsBindAddress,
    workers: opts.workers,
    ...(opts.identity ? { identity: opts.identity } : {}),
    logger: log,
    insecureLoopback: opts.devInsecureLoopback,
    onLeadershipLost: () => {
      log.error({}, 'Leader lease lost; exiting so a fresh process can campaign');
      process.exit(1);
    },
  });
  log.info({ version: VERSION, image: opts.image, metrics: operator.metricsUrl }, 'Operator started');
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'Shutting down');
    const force = setTimeout(() => process.exit(1), 20_000);
    force.unref();
    operator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
} catch (err) {
  log.fatal({ err: (err as Error).message }, 'Operator failed to start');
  process.exit(1);
}
