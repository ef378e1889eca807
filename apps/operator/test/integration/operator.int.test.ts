/**
 * The operator against a real kube-apiserver (v1.20) under its own ClusterRole: missing RBAC fails
 * these tests. Each scenario uses its own namespace; one operator serves them all.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger } from '../../src/util/logger.js';
import { startOperator, type RunningOperator } from '../../src/operator.js';
import { ANNOTATION_CONFIG_HASH, childNames } from '../../src/desired/names.js';
import type { KubeObject } from '../../src/desired/types.js';
import type { KnownKind } from '../../src/kube/resources.js';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startMcpUpstream, startTestIdp } from '@bastion-mcp/testkit';
import { ProxyController } from '../../src/controller/controller.js';
import { LeaderElector } from '../../src/controller/leader.js';
import { KubeApiError } from '../../src/errors.js';
import { OperatorMetrics } from '../../src/util/metrics.js';
import { KubeClient } from '../../src/kube/client.js';
import { APP_DIR, OPERATOR_NAMESPACE, startCluster, type TestCluster, waitFor } from '../helpers/cluster.js';
import { ensureRunnerBuilt, startRunner } from '../helpers/runner-process.js';
import {
  condition,
  createNamespace,
  externalAuth,
  listEvents,
  markDeploymentAvailable,
  proxy,
  secret,
  toolConfig,
  waitForProxy,
} from '../helpers/objects.js';

const IMAGE = 'registry.example/bastion/proxyrunner:test';
let cluster: TestCluster;
let operator: RunningOperator;

type Dep = KubeObject & {
  spec: {
    replicas?: number;
    template: {
      metadata: { annotations: Record<string, string> };
      spec: {
        containers: Array<{
          env: Array<{ name: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }>;
        }>;
      };
    };
  };
};

const OIDC = { issuer: 'https://idp.example.com', audience: 'https://mcp.example.com' };

beforeAll(async () => {
  cluster = await startCluster();
  operator = await startOperator({
    kubeConfig: cluster.operatorConfig,
    image: IMAGE,
    leaderElection: false,
    metrics: { host: '127.0.0.1', port: 0 },
    logger: createLogger('silent'),
    retryBaseDelayMs: 100,
    watchRetryMs: 200,
    // the proxy-runner scenario runs the remote and the IdP on loopback
    insecureLoopback: true,
  });
}, 120_000);

afterAll(async () => {
  await operator?.close();
  await cluster?.down();
}, 60_000);

const apply = (obj: Record<string, unknown>) => {
  const kind = obj.kind as KnownKind;
  return cluster.admin.apply(kind, obj as KubeObject, 'test-admin');
};
const get = <T = KubeObject>(kind: KnownKind, ns: string, name: string) =>
  cluster.admin.get<T>(kind, ns, name);
const exists = (kind: KnownKind, ns: string, name: string) =>
  get(kind, ns, name).then(
    () => true,
    () => false,
  );

describe('MCPRemoteProxy lifecycle', () => {
  const ns = 'lifecycle';
  const name = 'crm';
  const names = childNames(name);

  beforeAll(async () => {
    await createNamespace(cluster.admin, ns);
    await apply(secret(ns, 'sts-client', { secret: 'first-secret-value' }));
    await apply(
      externalAuth(ns, 'exchange', {
        type: 'tokenExchange',
        tokenExchange: {
          tokenUrl: 'https://idp.example.com/token',
          clientId: 'bastion',
          clientSecretRef: { name: 'sts-client', key: 'secret' },
          audience: 'crm-api',
        },
      }),
    );
    await apply(toolConfig(ns, 'tools', { filter: ['search'] }));
  });

  it('creates the children with controller owner references and the expected shape', async () => {
    await apply(
      proxy(ns, name, {
        remoteUrl: 'https://mcp.crm.example.com/mcp',
        oidcConfig: OIDC,
        externalAuthConfigRef: { name: 'exchange' },
        toolConfigRef: { name: 'tools' },
      }),
    );
    const p = await waitForProxy(
      cluster.admin,
      ns,
      name,
      'configured',
      (x) => condition(x, 'ConfigValid')?.status === 'True',
    );
    for (const [kind, child] of [
      ['ServiceAccount', names.serviceAccount],
      ['ConfigMap', names.configMap],
      ['Service', names.service],
      ['Deployment', names.deployment],
    ] as const) {
      const obj = await waitFor(`${kind} ${child}`, () => get(kind, ns, child).catch(() => undefined));
      expect(obj.metadata?.ownerReferences).toEqual([
        expect.objectContaining({
          kind: 'MCPRemoteProxy',
          name,
          uid: p.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        }),
      ]);
    }
    const cm = await get('ConfigMap', ns, names.configMap);
    const rc = JSON.parse(cm.data?.['runconfig.json'] ?? '{}');
    expect(rc).toMatchObject({
      name,
      remoteUrl: 'https://mcp.crm.example.com/mcp',
      auth: { mode: 'oidc', issuer: OIDC.issuer, audience: OIDC.audience, resourceUrl: p.status?.url },
      tokenExchange: { clientSecretEnv: 'BASTION_TOKEN_EXCHANGE_CLIENT_SECRET', audience: 'crm-api' },
      tools: { filter: ['search'] },
    });
    expect(JSON.stringify(rc)).not.toContain('first-secret-value');
    const dep = await get<Dep>('Deployment', ns, names.deployment);
    expect(dep.spec.replicas).toBe(1); // API default: the operator did not set it
    const env = dep.spec.template.spec.containers[0]?.env ?? [];
    expect(env).toContainEqual({
      name: 'BASTION_TOKEN_EXCHANGE_CLIENT_SECRET',
      valueFrom: { secretKeyRef: { name: 'sts-client', key: 'secret' } },
    });
    expect(dep.spec.template.metadata.annotations[ANNOTATION_CONFIG_HASH]).toBe(p.status?.configHash);
    expect(p.status?.url).toBe(`http://${names.service}.${ns}.svc.cluster.local:8080/mcp`);
    expect(p.status?.phase).toBe('Pending');
    expect(condition(p, 'DeploymentAvailable')?.status).toBe('False');
  });

  it('becomes Ready once the Deployment reports itself available', async () => {
    await markDeploymentAvailable(cluster.admin, ns, names.deployment);
    const p = await waitForProxy(cluster.admin, ns, name, 'Ready', (x) => x.status?.phase === 'Ready');
    for (const t of ['Ready', 'ConfigValid', 'AuthConfigured', 'ReferencesResolved', 'DeploymentAvailable']) {
      expect(condition(p, t)).toMatchObject({ status: 'True', observedGeneration: p.metadata.generation });
      expect(condition(p, t)?.reason).toMatch(/^[A-Za-z]/);
    }
  });

  it('makes no writes when nothing changed', async () => {
    const key = `${ns}/${name}`;
    const versions = async () =>
      Promise.all([
        get('MCPRemoteProxy', ns, name),
        get('ConfigMap', ns, names.configMap),
        get('Deployment', ns, names.deployment),
        get('Service', ns, names.service),
        get('ServiceAccount', ns, names.serviceAccount),
      ]).then((objs) => objs.map((o) => o.metadata?.resourceVersion));
    const before = await versions();
    const statusWrites = operator.metrics.statusWrites.get();
    for (let i = 0; i < 3; i++) await operator.controller.reconcile(key);
    expect(await versions()).toEqual(before);
    expect(operator.metrics.statusWrites.get()).toBe(statusWrites);
  });

  it('rolls the pods when the spec changes (RunConfig and hash) and keeps status.url current', async () => {
    const before = await get<Dep>('Deployment', ns, names.deployment);
    const oldHash = before.spec.template.metadata.annotations[ANNOTATION_CONFIG_HASH];
    await apply(
      proxy(ns, name, {
        remoteUrl: 'https://mcp.crm.example.com/v2/mcp',
        port: 9090,
        oidcConfig: OIDC,
        externalAuthConfigRef: { name: 'exchange' },
        toolConfigRef: { name: 'tools' },
      }),
    );
    const p = await waitForProxy(
      cluster.admin,
      ns,
      name,
      'new generation',
      (x) => !!x.status?.configHash && x.status.configHash !== oldHash,
    );
    expect(p.status?.url).toBe(`http://${names.service}.${ns}.svc.cluster.local:9090/mcp`);
    const cm = await get('ConfigMap', ns, names.configMap);
    expect(JSON.parse(cm.data?.['runconfig.json'] ?? '{}')).toMatchObject({
      remoteUrl: 'https://mcp.crm.example.com/v2/mcp',
      listen: { port: 9090 },
    });
    const dep = await get<Dep>('Deployment', ns, names.deployment);
    expect(dep.spec.template.metadata.annotations[ANNOTATION_CONFIG_HASH]).toBe(p.status?.configHash);
    const svc = await get<KubeObject & { spec: { ports: Array<{ name: string; port: number }> } }>(
      'Service',
      ns,
      names.service,
    );
    expect(svc.spec.ports.find((x) => x.name === 'http')?.port).toBe(9090);
    // the new generation is not rolled out yet: not Ready until the Deployment says so
    expect(condition(p, 'DeploymentAvailable')?.status).toBe('False');
    await markDeploymentAvailable(cluster.admin, ns, names.deployment);
    await waitForProxy(cluster.admin, ns, name, 'Ready again', (x) => x.status?.phase === 'Ready');
  });

  it('rolls the pods when a referenced Secret is rotated or a referenced config is edited', async () => {
    const hashOf = async () =>
      (await get<Dep>('Deployment', ns, names.deployment)).spec.template.metadata.annotations[
        ANNOTATION_CONFIG_HASH
      ];
    const h1 = await hashOf();
    await apply(secret(ns, 'sts-client', { secret: 'rotated-secret-value' }));
    const h2 = await waitFor('hash after rotation', async () => {
      const h = await hashOf();
      return h !== h1 ? h : undefined;
    });
    await apply(toolConfig(ns, 'tools', { filter: ['search', 'create_ticket'] }));
    await waitFor('hash after tool config edit', async () => {
      const h = await hashOf();
      return h !== h2 && h !== h1 ? h : undefined;
    });
    const cm = await get('ConfigMap', ns, names.configMap);
    expect(JSON.parse(cm.data?.['runconfig.json'] ?? '{}').tools.filter).toEqual(['search', 'create_ticket']);
    expect(cm.data?.['runconfig.json']).not.toContain('rotated-secret-value');
  });

  it('reports a deleted reference with a condition and an Event, and recovers when it is restored', async () => {
    await cluster.admin.delete('MCPToolConfig', ns, 'tools');
    const p = await waitForProxy(
      cluster.admin,
      ns,
      name,
      'ReferencesResolved=False',
      (x) => condition(x, 'ReferencesResolved')?.status === 'False',
    );
    expect(condition(p, 'ReferencesResolved')).toMatchObject({ reason: 'ReferenceNotFound' });
    expect(condition(p, 'ReferencesResolved')?.message).toContain('MCPToolConfig "tools" not found');
    expect(p.status?.phase).toBe('Failed');
    expect(condition(p, 'Ready')).toMatchObject({ status: 'False', reason: 'ReferencesUnresolved' });
    // the running Deployment is left alone while the reference is missing
    expect(await exists('Deployment', ns, names.deployment)).toBe(true);
    await waitFor('Warning event', async () =>
      (await listEvents(cluster.admin, ns, name)).some(
        (e) => e.type === 'Warning' && e.reason === 'ReferenceNotFound',
      ),
    );
    await apply(toolConfig(ns, 'tools', { filter: ['search'] }));
    const back = await waitForProxy(
      cluster.admin,
      ns,
      name,
      'references resolved',
      (x) => condition(x, 'ReferencesResolved')?.status === 'True',
    );
    expect(condition(back, 'ConfigValid')?.status).toBe('True');
  });

  it('keeps what others own: a manual scale, foreign annotations, and heals a deleted child', async () => {
    const key = `${ns}/${name}`;
    // kubectl scale / an HPA owns replicas when spec.replicas is unset
    await cluster.admin.request('PATCH', `/apis/apps/v1/namespaces/${ns}/deployments/${names.deployment}`, {
      body: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: names.deployment, namespace: ns },
        spec: { replicas: 3 },
      },
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: 'hpa-test', force: true },
    });
    // a cloud controller annotates the Service
    await cluster.admin.mergePatch('Service', ns, names.service, {
      metadata: { annotations: { 'cloud.example.com/neg': 'x' } },
    });
    const svcBefore = await get('Service', ns, names.service);
    await operator.controller.reconcile(key);
    await operator.controller.reconcile(key);
    const dep = await get<Dep>('Deployment', ns, names.deployment);
    expect(dep.spec.replicas).toBe(3);
    const svc = await get('Service', ns, names.service);
    expect(svc.metadata?.annotations?.['cloud.example.com/neg']).toBe('x');
    expect(svc.metadata?.resourceVersion).toBe(svcBefore.metadata?.resourceVersion);
    // a deleted child comes back (the owned-object watch wakes the owner up)
    await cluster.admin.delete('Service', ns, names.service);
    await waitFor('Service recreated', () => get('Service', ns, names.service).catch(() => undefined));
  });

  it('reports a podTemplateSpec the API rejects as ApplyRejected without retrying', async () => {
    await apply(
      proxy(ns, 'broken', {
        remoteUrl: 'https://mcp.crm.example.com/mcp',
        anonymous: true,
        podTemplateSpec: {
          spec: { containers: [{ name: 'proxy', ports: [{ name: 'http', containerPort: 70000 }] }] },
        },
      }),
    );
    const p = await waitForProxy(
      cluster.admin,
      ns,
      'broken',
      'ApplyRejected',
      (x) => condition(x, 'ConfigValid')?.reason === 'ApplyRejected',
    );
    expect(condition(p, 'ConfigValid')?.status).toBe('False');
    expect(condition(p, 'ConfigValid')?.message).toMatch(/Deployment broken-proxy/);
    expect(p.status?.phase).toBe('Failed');
    const errors = operator.metrics.reconciles.get({ result: 'requeue' });
    await operator.controller.reconcile(`${ns}/broken`);
    expect((await get('MCPRemoteProxy', ns, 'broken')).metadata?.resourceVersion).toBe(
      p.metadata.resourceVersion,
    );
    expect(operator.metrics.reconciles.get({ result: 'requeue' })).toBe(errors);
    await cluster.admin.delete('MCPRemoteProxy', ns, 'broken');
  });

  it('exposes Prometheus metrics and health endpoints', async () => {
    const text = await (await fetch(`${operator.metricsUrl}/metrics`)).text();
    expect(text).toMatch(/bastion_operator_reconcile_total\{result="success"\} [1-9]/);
    expect(text).toMatch(/bastion_operator_apply_total\{kind="Deployment",result="success"\} [1-9]/);
    expect(text).toContain('bastion_operator_leader 1');
    expect((await fetch(`${operator.metricsUrl}/readyz`)).status).toBe(200);
    expect((await fetch(`${operator.metricsUrl}/healthz`)).status).toBe(200);
  });

  it('garbage-collects every child when the proxy is deleted', async () => {
    await cluster.admin.delete('MCPRemoteProxy', ns, name);
    await waitFor(
      'children gone',
      async () => {
        const left = await Promise.all([
          exists('ConfigMap', ns, names.configMap),
          exists('Deployment', ns, names.deployment),
          exists('Service', ns, names.service),
          exists('ServiceAccount', ns, names.serviceAccount),
        ]);
        return left.every((x) => !x);
      },
      30_000,
    );
  });
});

describe('invalid specs', () => {
  const ns = 'invalid';

  beforeAll(async () => {
    await createNamespace(cluster.admin, ns);
  });

  it('sets ConfigValid=False with an Event and does not hot-loop (authentication not explicit)', async () => {
    // admitted by 1.20 (CEL rules are dropped): the operator enforces the rule itself
    await apply(proxy(ns, 'noauth', { remoteUrl: 'https://mcp.example.com/mcp' }));
    const p = await waitForProxy(
      cluster.admin,
      ns,
      'noauth',
      'ConfigValid=False',
      (x) => condition(x, 'ConfigValid')?.status === 'False',
    );
    expect(condition(p, 'ConfigValid')).toMatchObject({ reason: 'InvalidSpec' });
    expect(condition(p, 'ConfigValid')?.message).toContain('inbound authentication must be explicit');
    expect(p.status?.phase).toBe('Failed');
    expect(await exists('Deployment', ns, childNames('noauth').deployment)).toBe(false);
    await waitFor('Warning event', async () =>
      (await listEvents(cluster.admin, ns, 'noauth')).some(
        (e) => e.type === 'Warning' && e.reason === 'InvalidSpec',
      ),
    );
    const count = operator.controller.reconcileCount;
    const rv = p.metadata.resourceVersion;
    await new Promise((r) => setTimeout(r, 1500));
    // a hot loop would reconcile (and rewrite status) continuously; allow the settle-down reconcile
    expect(operator.controller.reconcileCount - count).toBeLessThanOrEqual(2);
    expect((await get('MCPRemoteProxy', ns, 'noauth')).metadata?.resourceVersion).toBe(rv);
  });

  it('refuses cross-namespace references and private remotes', async () => {
    await apply(
      proxy(ns, 'foreign', {
        remoteUrl: 'https://mcp.example.com/mcp',
        anonymous: true,
        toolConfigRef: { name: 'tools', namespace: 'other' },
      }),
    );
    const p = await waitForProxy(
      cluster.admin,
      ns,
      'foreign',
      'refused',
      (x) => condition(x, 'ConfigValid')?.status === 'False',
    );
    expect(condition(p, 'ConfigValid')).toMatchObject({ reason: 'CrossNamespaceReference' });

    await apply(proxy(ns, 'private', { remoteUrl: 'https://10.1.2.3/mcp', anonymous: true }));
    const q = await waitForProxy(
      cluster.admin,
      ns,
      'private',
      'refused',
      (x) => condition(x, 'ConfigValid')?.status === 'False',
    );
    expect(condition(q, 'ConfigValid')).toMatchObject({ reason: 'RemoteURLRefused' });
    // fixing the spec recovers without any restart
    await apply(
      proxy(ns, 'private', {
        remoteUrl: 'https://10.1.2.3/mcp',
        anonymous: true,
        allowPrivateEndpoint: true,
      }),
    );
    const r = await waitForProxy(
      cluster.admin,
      ns,
      'private',
      'valid',
      (x) => condition(x, 'ConfigValid')?.status === 'True',
    );
    expect(condition(r, 'AuthConfigured')).toMatchObject({ status: 'True', reason: 'Anonymous' });
  });

  it('rejects at admission what the structural schema can express', async () => {
    await expect(
      apply(proxy(ns, 'badport', { remoteUrl: 'https://mcp.example.com', anonymous: true, port: 70000 })),
    ).rejects.toThrow(/spec.port/);
    await expect(
      apply(proxy(ns, 'badurl', { remoteUrl: 'ftp://mcp.example.com', anonymous: true })),
    ).rejects.toThrow(/spec.remoteUrl/);
    await expect(
      apply(
        proxy(ns, 'badtransport', {
          remoteUrl: 'https://mcp.example.com',
          anonymous: true,
          transport: 'stdio' as 'sse',
        }),
      ),
    ).rejects.toThrow(/spec.transport/);
  });
});

describe('the proxy runner started from what the operator wrote', () => {
  const ns = 'e2e';
  it('serves an authenticated MCP request with the RunConfig from the ConfigMap and env from the Secret', async () => {
    ensureRunnerBuilt();
    const idp = await startTestIdp();
    const upstream = await startMcpUpstream({ stateless: true, jsonResponse: true });
    let runner: ReturnType<typeof startRunner> | undefined;
    try {
      idp.addResource(upstream.url, { format: 'jwt' });
      await createNamespace(cluster.admin, ns);
      await apply(secret(ns, 'sts', { 'client-secret': String(idp.clients.exchanger.clientSecret) }));
      await apply(
        externalAuth(ns, 'exchange', {
          type: 'tokenExchange',
          tokenExchange: {
            tokenUrl: idp.tokenEndpoint,
            clientId: idp.clients.exchanger.clientId,
            clientSecretRef: { name: 'sts', key: 'client-secret' },
            audience: upstream.url,
          },
        }),
      );
      const port = await freePort();
      await apply(
        proxy(ns, 'live', {
          remoteUrl: upstream.url,
          port,
          oidcConfig: {
            issuer: idp.issuer,
            audience: idp.resource,
            resourceUrl: `http://127.0.0.1:${port}/mcp`,
          },
          externalAuthConfigRef: { name: 'exchange' },
          telemetry: { prometheus: false },
        }),
      );
      await waitForProxy(
        cluster.admin,
        ns,
        'live',
        'configured',
        (x) => condition(x, 'ConfigValid')?.status === 'True',
      );
      const names = childNames('live');
      const cm = await get('ConfigMap', ns, names.configMap);
      const dep = await get<Dep>('Deployment', ns, names.deployment);
      // what the kubelet does with the container's env: resolve secretKeyRef from the Secret
      const env: Record<string, string> = {};
      for (const e of dep.spec.template.spec.containers[0]?.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (!ref) continue;
        const s = await get('Secret', ns, ref.name);
        env[e.name] = Buffer.from(s.data?.[ref.key] ?? '', 'base64').toString('utf8');
      }
      expect(Object.keys(env)).toEqual(['BASTION_TOKEN_EXCHANGE_CLIENT_SECRET']);
      // the pod binds 0.0.0.0; on a shared test machine bind loopback only (the one change made)
      const runConfig = JSON.parse(cm.data?.['runconfig.json'] ?? '{}');
      runConfig.listen.host = '127.0.0.1';
      runner = startRunner(JSON.stringify(runConfig), env);
      const listening = await runner.listening();
      const url = String(listening.url);
      const token = await idp.issueAccessToken({ sub: 'alice', resource: idp.resource, scope: 'mcp:tools' });
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-06-18',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: 'echo', arguments: { text: 'via operator' } },
        }),
      });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('via operator');
      const sent = String(upstream.rpcRequests('tools/call')[0]?.headers.authorization);
      expect(sent).toMatch(/^Bearer /);
      expect(sent).not.toBe(`Bearer ${token}`); // exchanged, not passed through
      const anon = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
      });
      expect(anon.status).toBe(401);
    } finally {
      await runner?.stop();
      await upstream.close();
      await idp.close();
    }
  }, 120_000);
});

describe('leader election', () => {
  it('elects exactly one of two replicas and fails over when the leader leaves', async () => {
    const client = new KubeClient(cluster.operatorConfig);
    const noop = { info() {}, warn() {} };
    const started: string[] = [];
    const make = (identity: string) =>
      new LeaderElector({
        client,
        namespace: OPERATOR_NAMESPACE,
        name: 'election-test',
        identity,
        leaseDurationMs: 1500,
        renewDeadlineMs: 1000,
        retryPeriodMs: 200,
        log: noop,
        onStartedLeading: () => started.push(identity),
        onStoppedLeading: () => {},
      });
    const a = make('replica-a');
    const b = make('replica-b');
    a.start();
    b.start();
    try {
      await waitFor('a leader', async () => a.isLeader || b.isLeader);
      // several renew periods later there is still exactly one leader
      await new Promise((r) => setTimeout(r, 800));
      expect([a.isLeader, b.isLeader].filter(Boolean)).toHaveLength(1);
      const [leader, follower] = a.isLeader ? [a, b] : [b, a];
      const lease = await cluster.admin.request<{ spec: { holderIdentity: string } }>(
        'GET',
        `/apis/coordination.k8s.io/v1/namespaces/${OPERATOR_NAMESPACE}/leases/election-test`,
      );
      expect(lease.spec.holderIdentity).toBe(started[0]);
      await leader.stop(); // releases the lease
      await waitFor('failover', async () => follower.isLeader);
      expect(started).toHaveLength(2);
      expect(new Set(started).size).toBe(2);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('runs the controller only in the replica holding the lease', async () => {
    const opts = {
      kubeConfig: cluster.operatorConfig,
      image: IMAGE,
      metrics: false as const,
      logger: createLogger('silent'),
      leaderElection: {
        namespace: OPERATOR_NAMESPACE,
        leaseName: 'operator-ha',
        leaseDurationMs: 1500,
        renewDeadlineMs: 1000,
        retryPeriodMs: 200,
      },
    };
    const one = await startOperator({ ...opts, identity: 'op-1' });
    const two = await startOperator({ ...opts, identity: 'op-2' });
    try {
      await waitFor('one leader', async () => one.isLeader() || two.isLeader());
      await new Promise((r) => setTimeout(r, 600));
      expect([one.isLeader(), two.isLeader()].filter(Boolean)).toHaveLength(1);
      const follower = one.isLeader() ? two : one;
      expect(follower.metrics.leader.get()).toBe(0);
      expect(follower.controller.reconcileCount).toBe(0);
    } finally {
      await one.close();
      await two.close();
    }
  });
});

describe('the bastion-operator binary', () => {
  it('takes the lease, serves health and metrics, and on SIGTERM releases the lease and exits 0', async () => {
    const bin = join(APP_DIR, 'dist/main.js');
    if (!existsSync(bin)) execFileSync('npx', ['tsup'], { cwd: APP_DIR, stdio: 'ignore' });
    const dir = mkdtempSync(join(tmpdir(), 'bastion-operator-bin-'));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, cluster.operatorConfig.exportConfig());
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        bin,
        '--kubeconfig',
        kubeconfig,
        '--namespace',
        OPERATOR_NAMESPACE,
        '--lease-name',
        'binary-test',
        '--identity',
        'bin-1',
        '--metrics-bind-address',
        `127.0.0.1:${port}`,
      ],
      { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor('leader lease', async () => out.includes('"msg":"Acquired leader lease"'));
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toContain(
        'bastion_operator_leader 1',
      );
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const lines = out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      for (const l of lines)
        expect(l).toEqual(
          expect.objectContaining({
            ts: expect.any(String),
            level: expect.any(String),
            msg: expect.any(String),
          }),
        );
      expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['Shutting down', 'Operator stopped']));
      const lease = await cluster.admin.request<{ spec: { holderIdentity?: string | null } }>(
        'GET',
        `/apis/coordination.k8s.io/v1/namespaces/${OPERATOR_NAMESPACE}/leases/binary-test`,
      );
      expect(lease.spec.holderIdentity ?? null).toBeNull();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    }
  }, 60_000);
});

describe('transient API errors', () => {
  it('requeue with backoff and succeed once the API recovers', async () => {
    const ns = 'flaky';
    await createNamespace(cluster.admin, ns);
    // Fault injection at the client boundary: a real apiserver cannot be made to answer 503 on
    // demand, so the first two applies fail as a 503 would; everything else goes to the real server.
    let failures = 2;
    class FlakyClient extends KubeClient {
      override apply<T>(...args: Parameters<KubeClient['apply']>): Promise<T> {
        if (args[1].metadata?.namespace === ns && failures > 0) {
          failures--;
          return Promise.reject(new KubeApiError('PATCH', 'injected', 503, 'ServiceUnavailable', 'injected'));
        }
        return super.apply<T>(...args);
      }
    }
    const metrics = new OperatorMetrics();
    const controller = new ProxyController({
      client: new FlakyClient(cluster.operatorConfig),
      desired: { image: IMAGE, clusterDomain: 'cluster.local', insecureLoopback: false },
      log: createLogger('silent'),
      metrics,
      identity: 'flaky-test',
      retryBaseDelayMs: 50,
    });
    await operator.close(); // only the flaky controller works on this proxy
    try {
      await controller.startInformers();
      controller.runWorkers();
      await apply(proxy(ns, 'retry', { remoteUrl: 'https://mcp.example.com/mcp', anonymous: true }));
      await waitForProxy(
        cluster.admin,
        ns,
        'retry',
        'configured',
        (x) => condition(x, 'ConfigValid')?.status === 'True',
      );
      expect(failures).toBe(0);
      expect(metrics.reconciles.get({ result: 'requeue' })).toBeGreaterThanOrEqual(2);
      expect(await exists('Deployment', ns, childNames('retry').deployment)).toBe(true);
    } finally {
      await controller.stop();
    }
  });
});
