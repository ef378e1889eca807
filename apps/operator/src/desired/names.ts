/** Names, labels and annotations of the objects the operator generates for one MCPRemoteProxy. */
export const LABEL_PROXY = 'bastion-mcp.dev/proxy';
export const ANNOTATION_CONFIG_HASH = 'bastion-mcp.dev/config-hash';
export const CONTAINER_NAME = 'proxy';
export const RUNCONFIG_KEY = 'runconfig.json';
export const RUNCONFIG_DIR = '/etc/bastion';
export const METRICS_PORT = 9464;

export interface ChildNames {
  readonly configMap: string;
  readonly deployment: string;
  readonly service: string;
  readonly serviceAccount: string;
}

export function childNames(proxyName: string): ChildNames {
  return {
    configMap: `${proxyName}-runconfig`,
    deployment: `${proxyName}-proxy`,
    service: `${proxyName}-proxy`,
    serviceAccount: `${proxyName}-proxy`,
  };
}

/** Labels on every child; the first two also form the (immutable) Deployment selector. */
export function selectorLabels(proxyName: string): Record<string, string> {
  return { 'app.kubernetes.io/name': 'bastion-proxy', [LABEL_PROXY]: proxyName };
}

export function childLabels(proxyName: string): Record<string, string> {
  return {
    ...selectorLabels(proxyName),
    'app.kubernetes.io/instance': proxyName,
    'app.kubernetes.io/component': 'mcp-remote-proxy',
    'app.kubernetes.io/managed-by': 'bastion-operator',
    'app.kubernetes.io/part-of': 'bastion',
  };
}

/** The in-cluster URL of a proxy's MCP endpoint (status.url and the default RFC 9728 resource). */
export function proxyUrl(proxyName: string, namespace: string, port: number, clusterDomain: string): string {
  return `http://${childNames(proxyName).service}.${namespace}.svc.${clusterDomain}:${port}/mcp`;
}

/** Environment variable names the RunConfig references (values come from Secrets via secretKeyRef). */
export const ENV = {
  oidcClientSecret: 'BASTION_OIDC_CLIENT_SECRET',
  tokenExchangeClientSecret: 'BASTION_TOKEN_EXCHANGE_CLIENT_SECRET',
  upstreamToken: 'BASTION_UPSTREAM_TOKEN',
  upstreamHeader: 'BASTION_UPSTREAM_HEADER',
  headerForward: (index: number) => `BASTION_HEADER_FORWARD_${index}`,
} as const;
