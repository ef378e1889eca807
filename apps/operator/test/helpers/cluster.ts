/**
 * A real, throwaway Kubernetes control plane (etcd + kube-apiserver v1.20 + kube-controller-manager
 * with the garbage collector) started by test/k8s/test-cluster.sh on free loopback ports, plus an
 * unprivileged identity for the operator bound to the generated ClusterRole. No kubelet: pods never
 * run, tests write Deployment status themselves.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { KubeClient } from '../../src/kube/client.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
export const APP_DIR = join(here, '..', '..');
const K8S_BIN = process.env.K8S_BIN ?? '/var/cache/k8s-1.20.2/bin';
export const OPERATOR_NAMESPACE = 'bastion-system';
export const OPERATOR_SA = 'bastion-operator';

export interface TestCluster {
  readonly admin: KubeClient;
  readonly adminConfig: KubeConfig;
  /** Kubeconfig of the operator's service account (only its ClusterRole + leader Role). */
  readonly operatorConfig: KubeConfig;
  readonly dir: string;
  down(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

const CLUSTER_SCOPED: Record<string, string> = {
  CustomResourceDefinition: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
  Namespace: '/api/v1/namespaces',
  ClusterRole: '/apis/rbac.authorization.k8s.io/v1/clusterroles',
  ClusterRoleBinding: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
};
const NAMESPACED: Record<string, string> = {
  Role: '/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles',
  RoleBinding: '/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings',
  ServiceAccount: '/api/v1/namespaces/{ns}/serviceaccounts',
};

/** Server-side apply of any manifest the tests need, as admin. */
export async function applyManifest(
  client: KubeClient,
  obj: Record<string, unknown>,
  namespace?: string,
): Promise<unknown> {
  const kind = String(obj.kind);
  const meta = obj.metadata as { name: string; namespace?: string };
  let base = CLUSTER_SCOPED[kind];
  if (!base) {
    const ns = meta.namespace ?? namespace;
    const tpl = NAMESPACED[kind];
    if (!tpl || !ns) throw new Error(`applyManifest: unsupported kind ${kind}`);
    base = tpl.replace('{ns}', ns);
    obj = { ...obj, metadata: { ...meta, namespace: ns } };
  }
  if (kind === 'CustomResourceDefinition') {
    // like `kubectl create`/client-side apply: a 1.20 server drops the CEL `x-kubernetes-validations`
    // it does not know, whereas server-side apply refuses them (undeclared field)
    return client.request('POST', base, { body: obj });
  }
  return client.request('PATCH', `${base}/${meta.name}`, {
    body: obj,
    contentType: 'application/apply-patch+yaml',
    query: { fieldManager: 'test-admin', force: true },
  });
}

export async function readManifests(relPath: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(join(APP_DIR, relPath), 'utf8');
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Record<string, unknown> | null)
    .filter((d): d is Record<string, unknown> => !!d);
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startCluster(): Promise<TestCluster> {
  for (const bin of ['kube-apiserver', 'kube-controller-manager']) {
    if (!existsSync(join(K8S_BIN, bin)))
      throw new Error(
        `${join(K8S_BIN, bin)} is missing: the operator integration tests need a real kube-apiserver. ` +
          'Build it with apps/operator/test/k8s/ci-setup.sh (set K8S_BIN to use another directory).',
      );
  }
  const dir = await mkdtemp(join(tmpdir(), 'bastion-k8s-'));
  const token = randomBytes(24).toString('hex');
  const env = {
    ...process.env,
    K8S_BIN,
    K8S_TEST_DIR: join(dir, 'cluster'),
    ETCD_PORT: String(await freePort()),
    API_PORT: String(await freePort()),
    KCM_PORT: String(await freePort()),
    OPERATOR_TOKEN: token,
    OPERATOR_SA: `${OPERATOR_NAMESPACE}:${OPERATOR_SA}`,
  };
  const script = join(APP_DIR, 'test/k8s/test-cluster.sh');
  const down = async () => {
    await run('bash', [script, 'down'], { env }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await run('bash', [script, 'up'], { env, timeout: 90_000 });
  } catch (err) {
    const logs = await readFile(join(dir, 'cluster', 'apiserver.log'), 'utf8').catch(() => '');
    await down();
    throw new Error(`test-cluster.sh up failed: ${(err as Error).message}\n${logs.slice(-2000)}`);
  }
  const adminConfig = new KubeConfig();
  adminConfig.loadFromFile(join(dir, 'cluster', 'kubeconfig'));
  const operatorConfig = new KubeConfig();
  operatorConfig.loadFromFile(join(dir, 'cluster', 'kubeconfig'));
  const cluster = operatorConfig.getCurrentCluster();
  if (!cluster) throw new Error('no cluster in kubeconfig');
  operatorConfig.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'operator', token }],
    contexts: [{ name: 'operator', cluster: cluster.name, user: 'operator' }],
    currentContext: 'operator',
  });
  const admin = new KubeClient(adminConfig);

  // install what `kubectl apply -k deploy/` would: CRDs, namespace, RBAC
  await applyManifest(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: OPERATOR_NAMESPACE } });
  for (const file of [
    'deploy/crds/bastion-mcp.dev_mcpremoteproxies.yaml',
    'deploy/crds/bastion-mcp.dev_mcpexternalauthconfigs.yaml',
    'deploy/crds/bastion-mcp.dev_mcptoolconfigs.yaml',
    'deploy/crds/bastion-mcp.dev_mcpoidcconfigs.yaml',
    'deploy/rbac/cluster_role.yaml',
    'deploy/rbac/role_leader_election.yaml',
    'deploy/rbac/bindings.yaml',
  ]) {
    for (const m of await readManifests(file)) await applyManifest(admin, m, OPERATOR_NAMESPACE);
  }
  await waitFor('CRDs established', async () => {
    const list = await admin.request<{
      items: Array<{ status?: { conditions?: Array<{ type: string; status: string }> } }>;
    }>('GET', CLUSTER_SCOPED.CustomResourceDefinition as string);
    return (
      list.items.length === 4 &&
      list.items.every((c) =>
        c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True'),
      )
    );
  });
  return { admin, adminConfig, operatorConfig, dir, down };
}
