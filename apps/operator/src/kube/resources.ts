/** REST paths of the kinds the operator reads and writes (no discovery needed). */
import { API_GROUP, API_VERSION } from '../api/schemas.js';

export interface ResourceInfo {
  readonly apiVersion: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

export const RESOURCES = {
  Secret: { apiVersion: 'v1', plural: 'secrets', namespaced: true },
  ConfigMap: { apiVersion: 'v1', plural: 'configmaps', namespaced: true },
  Service: { apiVersion: 'v1', plural: 'services', namespaced: true },
  ServiceAccount: { apiVersion: 'v1', plural: 'serviceaccounts', namespaced: true },
  Event: { apiVersion: 'v1', plural: 'events', namespaced: true },
  Deployment: { apiVersion: 'apps/v1', plural: 'deployments', namespaced: true },
  Lease: { apiVersion: 'coordination.k8s.io/v1', plural: 'leases', namespaced: true },
  MCPRemoteProxy: { apiVersion: `${API_GROUP}/${API_VERSION}`, plural: 'mcpremoteproxies', namespaced: true },
  MCPExternalAuthConfig: {
    apiVersion: `${API_GROUP}/${API_VERSION}`,
    plural: 'mcpexternalauthconfigs',
    namespaced: true,
  },
  MCPToolConfig: { apiVersion: `${API_GROUP}/${API_VERSION}`, plural: 'mcptoolconfigs', namespaced: true },
  MCPOIDCConfig: { apiVersion: `${API_GROUP}/${API_VERSION}`, plural: 'mcpoidcconfigs', namespaced: true },
} as const satisfies Record<string, ResourceInfo>;

export type KnownKind = keyof typeof RESOURCES;

/** `/api/v1/namespaces/ns/secrets/name/status` style path; omit namespace for all namespaces. */
export function resourcePath(
  kind: KnownKind,
  namespace?: string,
  name?: string,
  subresource?: string,
): string {
  const info: ResourceInfo = RESOURCES[kind];
  const prefix = info.apiVersion.includes('/') ? `/apis/${info.apiVersion}` : `/api/${info.apiVersion}`;
  let path = prefix;
  if (namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
  path += `/${info.plural}`;
  if (name) path += `/${encodeURIComponent(name)}`;
  if (subresource) path += `/${subresource}`;
  return path;
}
