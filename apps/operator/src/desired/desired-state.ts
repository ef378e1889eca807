/**
 * The pure heart of the operator: one MCPRemoteProxy plus the objects it references → the children
 * it should own (ServiceAccount, ConfigMap with the RunConfig, Service, Deployment) and the
 * configuration conditions. No I/O: `lookup` reads informer caches; the same inputs always give the
 * same output, which is what makes server-side apply idempotent.
 */
import { validateRunConfig } from '@bastion-mcp/runner';
import { GROUP_VERSION, type ProxySpec, proxySpecSchema } from '../api/schemas.js';
import { canonicalJson, sha256Hex } from '../util/hash.js';
import { mergeOverrides } from './merge.js';
import {
  ANNOTATION_CONFIG_HASH,
  CONTAINER_NAME,
  childLabels,
  childNames,
  METRICS_PORT,
  proxyUrl,
  RUNCONFIG_DIR,
  RUNCONFIG_KEY,
  selectorLabels,
} from './names.js';
import { foreignNamespaces } from './foreign-namespaces.js';
import { remoteUrlRefusal } from './remote-url.js';
import { resolveReferences } from './resolve.js';
import { buildRunConfig, type SecretEnv } from './runconfig.js';
import type {
  ConditionValue,
  DesiredOptions,
  KubeObject,
  ProxyObject,
  Reference,
  RefLookup,
} from './types.js';
import { describeZodIssues } from './zod-issues.js';

export const DEFAULT_RESOURCES = {
  requests: { cpu: '50m', memory: '64Mi' },
  limits: { memory: '256Mi' },
} as const;

export interface DesiredState {
  /** In-cluster URL of the MCP endpoint (kept current in status.url). */
  readonly url: string;
  /** Every object referenced by the spec, resolved or not (feeds the reverse index). */
  readonly references: readonly Reference[];
  readonly conditions: {
    readonly ConfigValid: ConditionValue;
    readonly AuthConfigured: ConditionValue;
    readonly ReferencesResolved: ConditionValue;
  };
  /** Present only when the configuration is valid and every reference resolved. */
  readonly children?: readonly KubeObject[];
  readonly configHash?: string;
  readonly runConfig?: unknown;
}

const cond = (status: ConditionValue['status'], reason: string, message: string): ConditionValue => ({
  status,
  reason,
  message,
});
const NOT_EVALUATED = cond('Unknown', 'NotEvaluated', 'not evaluated: the spec is invalid');

export function desiredState(proxy: ProxyObject, lookup: RefLookup, options: DesiredOptions): DesiredState {
  const { name, namespace } = proxy.metadata;
  const rawPort = (proxy.spec as { port?: unknown } | undefined)?.port;
  const urlFor = (port: number) => proxyUrl(name, namespace, port, options.clusterDomain);
  const parsed = proxySpecSchema.safeParse(proxy.spec);
  if (!parsed.success) {
    return {
      url: urlFor(typeof rawPort === 'number' ? rawPort : 8080),
      references: [],
      conditions: {
        ConfigValid: cond('False', 'InvalidSpec', describeZodIssues(parsed.error, 'spec')),
        AuthConfigured: NOT_EVALUATED,
        ReferencesResolved: NOT_EVALUATED,
      },
    };
  }
  const spec = parsed.data;
  const url = urlFor(spec.port);
  const foreign = foreignNamespaces(spec, namespace);
  if (foreign.length > 0) {
    return {
      url,
      references: [],
      conditions: {
        ConfigValid: cond(
          'False',
          'CrossNamespaceReference',
          `cross-namespace references are refused: ${foreign.join('; ')}`,
        ),
        AuthConfigured: NOT_EVALUATED,
        ReferencesResolved: NOT_EVALUATED,
      },
    };
  }
  const resolution = resolveReferences(spec, lookup);
  const refsCondition =
    resolution.missing.length > 0
      ? cond('False', 'ReferenceNotFound', resolution.missing.join('; '))
      : resolution.invalid.length > 0
        ? cond(
            'False',
            'ReferenceInvalid',
            resolution.invalid.map((i) => `${i.kind} "${i.name}": ${i.message}`).join('; '),
          )
        : cond('True', 'Resolved', describeResolved(resolution.references));
  const authCondition = authConditionFor(spec, resolution);

  const refusal = remoteUrlRefusal(spec.remoteUrl, {
    allowPrivateEndpoint: spec.allowPrivateEndpoint,
    allowLoopback: options.insecureLoopback,
  });
  const base = { url, references: resolution.references };
  if (refusal) {
    return {
      ...base,
      conditions: {
        ConfigValid: cond('False', 'RemoteURLRefused', `spec.remoteUrl: ${refusal}`),
        AuthConfigured: authCondition,
        ReferencesResolved: refsCondition,
      },
    };
  }
  if (refsCondition.status !== 'True') {
    return {
      ...base,
      conditions: {
        ConfigValid: cond('Unknown', 'ReferencesUnresolved', 'waiting for the referenced objects'),
        AuthConfigured: authCondition,
        ReferencesResolved: refsCondition,
      },
    };
  }

  const built = buildRunConfig({
    name,
    spec,
    url,
    insecureLoopback: options.insecureLoopback,
    ...(resolution.oidcConfig ? { oidcConfig: resolution.oidcConfig } : {}),
    ...(resolution.externalAuth ? { externalAuth: resolution.externalAuth } : {}),
    ...(resolution.toolConfig ? { toolConfig: resolution.toolConfig } : {}),
    ...(resolution.authzPolicyText !== undefined ? { authzPolicyText: resolution.authzPolicyText } : {}),
  });
  let invalid: string | undefined = built.conflicts.length > 0 ? built.conflicts.join('; ') : undefined;
  if (!invalid) {
    try {
      validateRunConfig(built.runConfig, `MCPRemoteProxy ${namespace}/${name}`);
    } catch (err) {
      const issues = (err as { issues?: Array<{ path: string; message: string }> }).issues;
      invalid = issues
        ? `generated RunConfig is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`
        : `generated RunConfig is invalid: ${(err as Error).message}`;
    }
  }
  if (invalid) {
    return {
      ...base,
      conditions: {
        ConfigValid: cond('False', 'RunConfigInvalid', invalid),
        AuthConfigured: authCondition,
        ReferencesResolved: refsCondition,
      },
    };
  }

  const runConfigJson = `${JSON.stringify(built.runConfig, null, 2)}\n`;
  const configHash = sha256Hex(
    canonicalJson({ runConfig: built.runConfig, env: built.env, versions: [...resolution.versions].sort() }),
  ).slice(0, 32);
  return {
    ...base,
    configHash,
    runConfig: built.runConfig,
    conditions: {
      ConfigValid: cond('True', 'Valid', 'the spec and the generated RunConfig are valid'),
      AuthConfigured: authCondition,
      ReferencesResolved: refsCondition,
    },
    children: buildChildren(proxy, spec, runConfigJson, built.env, configHash, options),
  };
}

function describeResolved(refs: readonly Reference[]): string {
  if (refs.length === 0) return 'no references';
  return `resolved ${refs.map((r) => `${r.kind} "${r.name}"`).join(', ')}`;
}

function authConditionFor(spec: ProxySpec, resolution: ReturnType<typeof resolveReferences>): ConditionValue {
  if (spec.anonymous === true && !spec.oidcConfig && !spec.oidcConfigRef)
    return cond('True', 'Anonymous', 'inbound authentication explicitly disabled (anonymous: true)');
  if (spec.oidcConfig)
    return cond(
      'True',
      'OIDC',
      `tokens from ${spec.oidcConfig.issuer} with audience ${spec.oidcConfig.audience}`,
    );
  if (spec.oidcConfigRef) {
    if (resolution.oidcConfig)
      return cond(
        'True',
        'OIDC',
        `tokens from ${resolution.oidcConfig.issuer} (MCPOIDCConfig "${spec.oidcConfigRef.name}")`,
      );
    return cond(
      'False',
      'OIDCConfigUnavailable',
      `MCPOIDCConfig "${spec.oidcConfigRef.name}" is missing or invalid`,
    );
  }
  return cond('False', 'AuthNotConfigured', 'no inbound authentication configured');
}

function ownerReference(proxy: ProxyObject) {
  return {
    apiVersion: GROUP_VERSION,
    kind: 'MCPRemoteProxy',
    name: proxy.metadata.name,
    uid: proxy.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

function buildChildren(
  proxy: ProxyObject,
  spec: ProxySpec,
  runConfigJson: string,
  env: readonly SecretEnv[],
  configHash: string,
  options: DesiredOptions,
): KubeObject[] {
  const { name, namespace } = proxy.metadata;
  const names = childNames(name);
  const labels = childLabels(name);
  const meta = (childName: string) => ({
    name: childName,
    namespace,
    labels,
    ownerReferences: [ownerReference(proxy)],
  });
  const prometheus = spec.telemetry?.prometheus ?? true;

  const serviceAccount: KubeObject = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: meta(names.serviceAccount),
    // the proxy runner never talks to the Kubernetes API
    automountServiceAccountToken: false,
  } as KubeObject;

  const configMap: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { ...meta(names.configMap), annotations: { [ANNOTATION_CONFIG_HASH]: configHash } },
    data: { [RUNCONFIG_KEY]: runConfigJson },
  };

  const servicePorts: Array<Record<string, unknown>> = [
    { name: 'http', port: spec.port, targetPort: 'http', protocol: 'TCP' },
  ];
  if (prometheus)
    servicePorts.push({ name: 'metrics', port: METRICS_PORT, targetPort: 'metrics', protocol: 'TCP' });
  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(names.service),
    spec: { type: 'ClusterIP', selector: selectorLabels(name), ports: servicePorts },
  };

  const containerPorts: Array<Record<string, unknown>> = [
    { name: 'http', containerPort: spec.port, protocol: 'TCP' },
  ];
  if (prometheus) containerPorts.push({ name: 'metrics', containerPort: METRICS_PORT, protocol: 'TCP' });
  const container = {
    name: CONTAINER_NAME,
    image: options.image,
    ...(options.imagePullPolicy ? { imagePullPolicy: options.imagePullPolicy } : {}),
    args: ['--config', `${RUNCONFIG_DIR}/${RUNCONFIG_KEY}`],
    ports: containerPorts,
    env: [
      { name: 'HOME', value: '/tmp' },
      ...env.map((e) => ({
        name: e.name,
        valueFrom: { secretKeyRef: { name: e.secret.name, key: e.secret.key } },
      })),
    ],
    resources: spec.resources ?? DEFAULT_RESOURCES,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    startupProbe: { httpGet: { path: '/health', port: 'http' }, periodSeconds: 2, failureThreshold: 30 },
    livenessProbe: {
      httpGet: { path: '/health', port: 'http' },
      periodSeconds: 10,
      timeoutSeconds: 3,
      failureThreshold: 3,
    },
    readinessProbe: {
      httpGet: { path: '/ready', port: 'http' },
      periodSeconds: 5,
      timeoutSeconds: 3,
      failureThreshold: 3,
    },
    volumeMounts: [
      { name: 'runconfig', mountPath: RUNCONFIG_DIR, readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };
  const generatedTemplate = {
    metadata: {
      labels,
      annotations: { [ANNOTATION_CONFIG_HASH]: configHash },
    },
    spec: {
      serviceAccountName: names.serviceAccount,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 65532,
        runAsGroup: 65532,
        fsGroup: 65532,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      terminationGracePeriodSeconds: 30,
      containers: [container],
      volumes: [
        {
          name: 'runconfig',
          configMap: { name: names.configMap, items: [{ key: RUNCONFIG_KEY, path: RUNCONFIG_KEY }] },
        },
        { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
      ],
    },
  };
  const merged = spec.podTemplateSpec
    ? (mergeOverrides(generatedTemplate, spec.podTemplateSpec) as typeof generatedTemplate)
    : generatedTemplate;
  // selector labels and the rollout hash always win over overrides
  merged.metadata = {
    ...merged.metadata,
    labels: { ...(merged.metadata?.labels ?? {}), ...selectorLabels(name) },
    annotations: { ...(merged.metadata?.annotations ?? {}), [ANNOTATION_CONFIG_HASH]: configHash },
  };

  const deployment: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(names.deployment),
    spec: {
      ...(spec.replicas !== undefined ? { replicas: spec.replicas } : {}),
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(name) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: merged,
    },
  };
  return [serviceAccount, configMap, service, deployment];
}
