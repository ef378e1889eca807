import type { KubernetesObject } from '@kubernetes/client-node';

/** A namespaced object as read from the API (only the parts the operator uses). */
export interface KubeObject extends KubernetesObject {
  metadata?: KubernetesObject['metadata'];
  spec?: unknown;
  status?: unknown;
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

/** Kinds a proxy may reference (all in its own namespace). */
export type RefKind = 'Secret' | 'ConfigMap' | 'MCPOIDCConfig' | 'MCPExternalAuthConfig' | 'MCPToolConfig';

/** Looks up a referenced object in the proxy's namespace (from informer caches). Pure for the caller. */
export type RefLookup = (kind: RefKind, name: string) => KubeObject | undefined;

export interface Reference {
  readonly kind: RefKind;
  readonly name: string;
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface ConditionValue {
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
}

export interface DesiredOptions {
  /** Proxy runner image. */
  readonly image: string;
  readonly imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Cluster DNS domain used in status.url (default cluster.local). */
  readonly clusterDomain: string;
  /** Development only: allow loopback remotes and write `insecureLoopback: true` into RunConfigs. */
  readonly insecureLoopback: boolean;
}

export interface ProxyObject extends KubeObject {
  apiVersion: string;
  kind: string;
  metadata: NonNullable<KubernetesObject['metadata']> & { name: string; namespace: string; uid: string };
  spec: unknown;
}
