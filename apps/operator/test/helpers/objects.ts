/** Builders of the objects integration and unit tests create. */
import { GROUP_VERSION, type ProxySpecInput } from '../../src/api/schemas.js';
import type { KubeClient } from '../../src/kube/client.js';
import { applyManifest, waitFor } from './cluster.js';

export function proxy(
  namespace: string,
  name: string,
  spec: Partial<ProxySpecInput> & Record<string, unknown>,
) {
  return { apiVersion: GROUP_VERSION, kind: 'MCPRemoteProxy', metadata: { name, namespace }, spec };
}

export function secret(namespace: string, name: string, data: Record<string, string>) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}

export function externalAuth(namespace: string, name: string, spec: Record<string, unknown>) {
  return { apiVersion: GROUP_VERSION, kind: 'MCPExternalAuthConfig', metadata: { name, namespace }, spec };
}

export function toolConfig(namespace: string, name: string, spec: Record<string, unknown>) {
  return { apiVersion: GROUP_VERSION, kind: 'MCPToolConfig', metadata: { name, namespace }, spec };
}

export async function createNamespace(admin: KubeClient, name: string): Promise<void> {
  await applyManifest(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

export interface StatusCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}
export interface ProxyRead {
  metadata: { generation: number; resourceVersion: string; uid: string };
  status?: {
    phase?: string;
    url?: string;
    observedGeneration?: number;
    configHash?: string;
    conditions?: StatusCondition[];
  };
}

export function condition(p: ProxyRead | undefined, type: string): StatusCondition | undefined {
  return p?.status?.conditions?.find((c) => c.type === type);
}

/** Wait until the proxy's status satisfies `pred` for its current generation. */
export async function waitForProxy(
  admin: KubeClient,
  namespace: string,
  name: string,
  what: string,
  pred: (p: ProxyRead) => boolean,
  timeoutMs?: number,
): Promise<ProxyRead> {
  return waitFor(
    `${namespace}/${name}: ${what}`,
    async () => {
      const p = await admin.get<ProxyRead>('MCPRemoteProxy', namespace, name);
      return p.status?.observedGeneration === p.metadata.generation && pred(p) ? p : undefined;
    },
    timeoutMs,
  );
}

/** What the Deployment controller + kubelet would write: the rollout is complete and available. */
export async function markDeploymentAvailable(
  admin: KubeClient,
  namespace: string,
  name: string,
): Promise<void> {
  const d = await admin.get<{ metadata: { generation: number }; spec: { replicas?: number } }>(
    'Deployment',
    namespace,
    name,
  );
  const replicas = d.spec.replicas ?? 1;
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  await admin.mergePatch(
    'Deployment',
    namespace,
    name,
    {
      status: {
        observedGeneration: d.metadata.generation,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
        conditions: [
          {
            type: 'Available',
            status: 'True',
            reason: 'MinimumReplicasAvailable',
            message: 'ok',
            lastUpdateTime: now,
            lastTransitionTime: now,
          },
          {
            type: 'Progressing',
            status: 'True',
            reason: 'NewReplicaSetAvailable',
            message: 'ok',
            lastUpdateTime: now,
            lastTransitionTime: now,
          },
        ],
      },
    },
    'status',
  );
}

export async function listEvents(admin: KubeClient, namespace: string, involvedName: string) {
  const list = await admin.list<{
    reason: string;
    type: string;
    message: string;
    involvedObject: { name: string };
  }>('Event', namespace);
  return list.items.filter((e) => e.involvedObject.name === involvedName);
}
