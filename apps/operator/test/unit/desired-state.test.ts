import { describe, expect, it } from '@jest/globals';
import { validateRunConfig } from '@bastion-mcp/runner';
import { desiredState } from '../../src/desired/desired-state.js';
import { ANNOTATION_CONFIG_HASH } from '../../src/desired/names.js';
import type { DesiredOptions, KubeObject, ProxyObject, RefKind } from '../../src/desired/types.js';

const OPTIONS: DesiredOptions = {
  image: 'example.com/proxyrunner:1',
  clusterDomain: 'cluster.local',
  insecureLoopback: false,
};
const OIDC = { issuer: 'https://idp.example.com', audience: 'https://mcp.example.com' };

function mrp(spec: Record<string, unknown>, name = 'crm'): ProxyObject {
  return {
    apiVersion: 'bastion-mcp.dev/v1alpha1',
    kind: 'MCPRemoteProxy',
    metadata: { name, namespace: 'team', uid: 'uid-1', generation: 1 },
    spec: { remoteUrl: 'https://mcp.crm.example.com/mcp', ...spec },
  };
}

type Objs = Partial<Record<RefKind, Record<string, KubeObject>>>;
const lookupOf = (objs: Objs) => (kind: RefKind, name: string) => objs[kind]?.[name];
const secretObj = (data: Record<string, string>, rv = '1'): KubeObject => ({
  metadata: { name: 's', namespace: 'team', uid: 'su', resourceVersion: rv },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
});
const specObj = (spec: unknown, rv = '1'): KubeObject => ({
  metadata: { namespace: 'team', uid: 'cu', resourceVersion: rv },
  spec,
});

function children(spec: Record<string, unknown>, objs: Objs = {}, options = OPTIONS) {
  const d = desiredState(mrp(spec), lookupOf(objs), options);
  if (!d.children) throw new Error(`no children: ${JSON.stringify(d.conditions)}`);
  // biome-ignore lint/suspicious/noExplicitAny: generated manifests are inspected as loose JSON
  const by = (kind: string) => d.children?.find((c) => c.kind === kind) as Record<string, any>;
  const cm = by('ConfigMap');
  return {
    d,
    sa: by('ServiceAccount'),
    cm,
    svc: by('Service'),
    dep: by('Deployment'),
    container: by('Deployment').spec.template.spec.containers[0],
    rc: JSON.parse(cm.data['runconfig.json']),
  };
}

describe('desiredState: children', () => {
  it('builds ServiceAccount, ConfigMap, Service and Deployment owned by the proxy', () => {
    const { d, sa, cm, svc, dep } = children({ anonymous: true });
    expect(d.children?.map((c) => `${c.kind}/${c.metadata?.name}`)).toEqual([
      'ServiceAccount/crm-proxy',
      'ConfigMap/crm-runconfig',
      'Service/crm-proxy',
      'Deployment/crm-proxy',
    ]);
    for (const c of d.children ?? []) {
      expect(c.metadata?.namespace).toBe('team');
      expect(c.metadata?.ownerReferences).toEqual([
        {
          apiVersion: 'bastion-mcp.dev/v1alpha1',
          kind: 'MCPRemoteProxy',
          name: 'crm',
          uid: 'uid-1',
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      expect(c.metadata?.labels).toMatchObject({
        'bastion-mcp.dev/proxy': 'crm',
        'app.kubernetes.io/managed-by': 'bastion-operator',
      });
    }
    expect(sa.automountServiceAccountToken).toBe(false);
    expect(cm.metadata.annotations[ANNOTATION_CONFIG_HASH]).toBe(d.configHash);
    expect(svc.spec).toMatchObject({
      type: 'ClusterIP',
      selector: { 'bastion-mcp.dev/proxy': 'crm', 'app.kubernetes.io/name': 'bastion-proxy' },
    });
    expect(svc.spec.ports).toEqual([
      { name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' },
      { name: 'metrics', port: 9464, targetPort: 'metrics', protocol: 'TCP' },
    ]);
    expect(dep.spec.selector.matchLabels).toEqual(svc.spec.selector);
    expect(dep.spec.template.metadata.annotations[ANNOTATION_CONFIG_HASH]).toBe(d.configHash);
  });

  it('runs the proxy runner hardened: non-root, read-only root fs, no escalation, no capabilities, RuntimeDefault seccomp', () => {
    const { dep, container } = children({ anonymous: true });
    const pod = dep.spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe('crm-proxy');
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.image).toBe('example.com/proxyrunner:1');
    expect(container.args).toEqual(['--config', '/etc/bastion/runconfig.json']);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'http' });
    expect(container.volumeMounts).toContainEqual({
      name: 'runconfig',
      mountPath: '/etc/bastion',
      readOnly: true,
    });
    expect(pod.volumes[0]).toEqual({
      name: 'runconfig',
      configMap: { name: 'crm-runconfig', items: [{ key: 'runconfig.json', path: 'runconfig.json' }] },
    });
    expect(container.resources).toEqual({
      requests: { cpu: '50m', memory: '64Mi' },
      limits: { memory: '256Mi' },
    });
  });

  it('leaves replicas to the cluster when unset and sets them when given', () => {
    expect(children({ anonymous: true }).dep.spec).not.toHaveProperty('replicas');
    expect(children({ anonymous: true, replicas: 3 }).dep.spec.replicas).toBe(3);
    expect(children({ anonymous: true, replicas: 0 }).dep.spec.replicas).toBe(0);
  });

  it('uses the port everywhere: RunConfig, container, Service and status url', () => {
    const { d, rc, svc, container } = children({ anonymous: true, port: 9000, transport: 'sse' });
    expect(rc.listen).toEqual({ host: '0.0.0.0', port: 9000, path: '/mcp' });
    expect(rc.transport).toBe('sse');
    expect(container.ports[0]).toEqual({ name: 'http', containerPort: 9000, protocol: 'TCP' });
    expect(svc.spec.ports[0].port).toBe(9000);
    expect(d.url).toBe('http://crm-proxy.team.svc.cluster.local:9000/mcp');
  });

  it('takes resources from the spec', () => {
    const resources = { requests: { cpu: '1' }, limits: { memory: '1Gi' } };
    expect(children({ anonymous: true, resources }).container.resources).toEqual(resources);
  });

  it('merges podTemplateSpec overrides without losing selector labels or the hash', () => {
    const { dep, container, d } = children({
      anonymous: true,
      podTemplateSpec: {
        metadata: {
          labels: { team: 'a', 'bastion-mcp.dev/proxy': 'hijack' },
          annotations: { [ANNOTATION_CONFIG_HASH]: 'x' },
        },
        spec: {
          nodeSelector: { disk: 'ssd' },
          tolerations: [{ key: 'k', operator: 'Exists' }],
          containers: [
            { name: 'proxy', env: [{ name: 'EXTRA', value: '1' }], resources: { limits: { cpu: '2' } } },
          ],
        },
      },
    });
    const tpl = dep.spec.template;
    expect(tpl.metadata.labels).toMatchObject({ team: 'a', 'bastion-mcp.dev/proxy': 'crm' });
    expect(tpl.metadata.annotations[ANNOTATION_CONFIG_HASH]).toBe(d.configHash);
    expect(tpl.spec.nodeSelector).toEqual({ disk: 'ssd' });
    expect(tpl.spec.tolerations).toEqual([{ key: 'k', operator: 'Exists' }]);
    expect(container.env).toContainEqual({ name: 'EXTRA', value: '1' });
    expect(container.env).toContainEqual({ name: 'HOME', value: '/tmp' });
    expect(container.resources.limits).toEqual({ memory: '256Mi', cpu: '2' });
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
  });
});

describe('desiredState: RunConfig', () => {
  it('always validates against the runner schema', () => {
    const { rc } = children({ anonymous: true });
    expect(() => validateRunConfig(rc)).not.toThrow();
    expect(rc).toMatchObject({
      schemaVersion: 1,
      name: 'crm',
      auth: { mode: 'anonymous' },
      metrics: { port: 9464 },
    });
  });

  it('inline OIDC: secrets only as secretKeyRef env; resourceUrl defaults to status.url', () => {
    const objs: Objs = { Secret: { s: secretObj({ cs: 'shh' }) } };
    const { rc, container, d } = children(
      {
        oidcConfig: {
          ...OIDC,
          clientId: 'intro',
          clientSecretRef: { name: 's', key: 'cs' },
          requiredScopes: ['mcp'],
        },
      },
      objs,
    );
    expect(rc.auth).toMatchObject({
      mode: 'oidc',
      ...OIDC,
      clientId: 'intro',
      clientSecretEnv: 'BASTION_OIDC_CLIENT_SECRET',
      resourceUrl: d.url,
      requiredScopes: ['mcp'],
    });
    expect(container.env).toContainEqual({
      name: 'BASTION_OIDC_CLIENT_SECRET',
      valueFrom: { secretKeyRef: { name: 's', key: 'cs' } },
    });
    expect(JSON.stringify(d.children)).not.toContain(Buffer.from('shh').toString('base64'));
    expect(d.conditions.AuthConfigured).toMatchObject({ status: 'True', reason: 'OIDC' });
  });

  it('shared MCPOIDCConfig plus the proxy’s own audience', () => {
    const objs: Objs = {
      MCPOIDCConfig: { corp: specObj({ issuer: 'https://login.example.com', scopes: ['openid'] }) },
    };
    const { rc } = children(
      { oidcConfigRef: { name: 'corp', audience: 'aud-1', resourceUrl: 'https://public.example.com/mcp' } },
      objs,
    );
    expect(rc.auth).toMatchObject({
      mode: 'oidc',
      issuer: 'https://login.example.com',
      audience: 'aud-1',
      resourceUrl: 'https://public.example.com/mcp',
      scopes: ['openid'],
    });
  });

  it.each([
    [
      'tokenExchange',
      {
        type: 'tokenExchange',
        tokenExchange: {
          tokenUrl: 'https://sts.example.com/t',
          clientId: 'c',
          clientSecretRef: { name: 's', key: 'k' },
          audience: 'api',
          headerName: 'X-Token',
        },
      },
      {
        tokenExchange: {
          grant: 'token-exchange',
          clientId: 'c',
          clientSecretEnv: 'BASTION_TOKEN_EXCHANGE_CLIENT_SECRET',
          audience: 'api',
          header: { name: 'X-Token' },
        },
      },
      'BASTION_TOKEN_EXCHANGE_CLIENT_SECRET',
    ],
    [
      'clientCredentials',
      {
        type: 'clientCredentials',
        clientCredentials: {
          tokenUrl: 'https://sts.example.com/t',
          clientId: 'c',
          clientSecretRef: { name: 's', key: 'k' },
        },
      },
      {
        tokenExchange: {
          grant: 'client_credentials',
          clientSecretEnv: 'BASTION_TOKEN_EXCHANGE_CLIENT_SECRET',
        },
      },
      'BASTION_TOKEN_EXCHANGE_CLIENT_SECRET',
    ],
    [
      'headerInjection (Authorization)',
      {
        type: 'headerInjection',
        headerInjection: { headerName: 'Authorization', valueSecretRef: { name: 's', key: 'k' } },
      },
      { upstreamAuth: { bearerTokenEnv: 'BASTION_UPSTREAM_TOKEN' } },
      'BASTION_UPSTREAM_TOKEN',
    ],
    [
      'headerInjection (custom header)',
      {
        type: 'headerInjection',
        headerInjection: { headerName: 'X-API-Key', valueSecretRef: { name: 's', key: 'k' } },
      },
      { headerForward: { fromEnv: { 'X-API-Key': 'BASTION_UPSTREAM_HEADER' } } },
      'BASTION_UPSTREAM_HEADER',
    ],
  ])('MCPExternalAuthConfig %s', (_label, extSpec, expected, envName) => {
    const objs: Objs = {
      Secret: { s: secretObj({ k: 'v' }) },
      MCPExternalAuthConfig: { ext: specObj(extSpec) },
    };
    const { rc, container, d } = children({ oidcConfig: OIDC, externalAuthConfigRef: { name: 'ext' } }, objs);
    expect(rc).toMatchObject(expected);
    expect(container.env).toContainEqual({
      name: envName,
      valueFrom: { secretKeyRef: { name: 's', key: 'k' } },
    });
    expect(d.references).toEqual([
      { kind: 'MCPExternalAuthConfig', name: 'ext' },
      { kind: 'Secret', name: 's' },
    ]);
  });

  it('authz inline, authz from a ConfigMap, audit, telemetry, headerForward and tools', () => {
    const objs: Objs = {
      ConfigMap: {
        pol: {
          metadata: { uid: 'c', resourceVersion: '3' },
          data: { 'policies.cedar': 'permit(principal, action, resource);' },
        },
      },
      Secret: { s: secretObj({ k: 'v' }) },
      MCPToolConfig: { tools: specObj({ filter: ['a'], overrides: { a: { description: 'A!' } } }) },
    };
    const { rc, container, svc } = children(
      {
        anonymous: true,
        authz: { configMapRef: { name: 'pol' }, defaultUnknownMethod: 'allow' },
        audit: { enabled: true, exclude: ['ping'], payloadMaxBytes: 512 },
        telemetry: { prometheus: false, otlpEndpoint: 'https://otel.example.com', sampleRatio: 0.5 },
        headerForward: {
          plain: { 'X-Tenant': 't1' },
          fromSecret: [{ header: 'X-Key', valueSecretRef: { name: 's', key: 'k' } }],
        },
        toolConfigRef: { name: 'tools' },
      },
      objs,
    );
    expect(rc.authz).toEqual({
      policies: ['permit(principal, action, resource);'],
      defaultUnknownMethod: 'allow',
    });
    expect(rc.audit).toEqual({
      enabled: true,
      sinks: [{ type: 'stdout' }],
      exclude: ['ping'],
      payloads: { maxBytes: 512 },
    });
    expect(rc.telemetry).toEqual({
      serviceName: 'crm',
      prometheus: false,
      otlpEndpoint: 'https://otel.example.com',
      sampleRatio: 0.5,
    });
    expect(rc).not.toHaveProperty('metrics');
    expect(svc.spec.ports.map((p: { name: string }) => p.name)).toEqual(['http']);
    expect(rc.headerForward).toEqual({
      plain: { 'X-Tenant': 't1' },
      fromEnv: { 'X-Key': 'BASTION_HEADER_FORWARD_0' },
    });
    expect(container.env).toContainEqual({
      name: 'BASTION_HEADER_FORWARD_0',
      valueFrom: { secretKeyRef: { name: 's', key: 'k' } },
    });
    expect(rc.tools).toEqual({ filter: ['a'], overrides: { a: { description: 'A!' } } });
    const inline = children({
      anonymous: true,
      authz: { policies: ['forbid(principal, action, resource);'] },
    }).rc;
    expect(inline.authz.policies).toEqual(['forbid(principal, action, resource);']);
  });

  it('development option insecureLoopback allows loopback remotes', () => {
    const spec = { anonymous: true, remoteUrl: 'http://127.0.0.1:3000/mcp' };
    expect(desiredState(mrp(spec), lookupOf({}), OPTIONS).conditions.ConfigValid.reason).toBe(
      'RemoteURLRefused',
    );
    const { rc } = children(spec, {}, { ...OPTIONS, insecureLoopback: true });
    expect(rc.insecureLoopback).toBe(true);
  });
});

describe('desiredState: rollout hash', () => {
  const spec = { oidcConfig: OIDC, externalAuthConfigRef: { name: 'ext' }, toolConfigRef: { name: 'tools' } };
  const ext = specObj({
    type: 'headerInjection',
    headerInjection: { headerName: 'Authorization', valueSecretRef: { name: 's', key: 'k' } },
  });
  const base: Objs = {
    Secret: { s: secretObj({ k: 'v1' }, '10'), other: secretObj({ k: 'x' }, '1') },
    MCPExternalAuthConfig: { ext },
    MCPToolConfig: { tools: specObj({ filter: ['a'] }, '5') },
  };
  const hash = (objs: Objs, s: Record<string, unknown> = spec) =>
    desiredState(mrp(s), lookupOf(objs), OPTIONS).configHash;

  it('is deterministic', () => {
    expect(hash(base)).toMatch(/^[0-9a-f]{32}$/);
    expect(hash(base)).toBe(hash(structuredClone(base)));
  });
  it('changes when a referenced Secret is rotated (without exposing its value)', () => {
    expect(hash({ ...base, Secret: { ...base.Secret, s: secretObj({ k: 'v2' }, '11') } })).not.toBe(
      hash(base),
    );
  });
  it('changes when a referenced config changes', () => {
    expect(hash({ ...base, MCPToolConfig: { tools: specObj({ filter: ['a', 'b'] }, '6') } })).not.toBe(
      hash(base),
    );
  });
  it('ignores unreferenced objects', () => {
    expect(hash({ ...base, Secret: { ...base.Secret, other: secretObj({ k: 'y' }, '2') } })).toBe(hash(base));
  });
  it('changes with the spec', () => {
    expect(hash(base, { ...spec, port: 9999 })).not.toBe(hash(base));
  });
});

describe('desiredState: problems become conditions, never children', () => {
  const none = lookupOf({});
  it.each([
    ['implicit anonymous', {}, 'InvalidSpec', /must be explicit/],
    ['bad field', { anonymous: true, port: 'x' }, 'InvalidSpec', /spec.port/],
    [
      'cross-namespace reference',
      { anonymous: true, toolConfigRef: { name: 't', namespace: 'other' } },
      'CrossNamespaceReference',
      /spec.toolConfigRef.namespace/,
    ],
    [
      'link-local remote',
      { anonymous: true, remoteUrl: 'https://169.254.169.254/mcp' },
      'RemoteURLRefused',
      /link-local/,
    ],
    [
      'in-cluster remote without allowPrivateEndpoint',
      { anonymous: true, remoteUrl: 'https://crm.tools.svc.cluster.local/mcp' },
      'RemoteURLRefused',
      /allowPrivateEndpoint/,
    ],
    [
      'plain http remote (runner rule)',
      { anonymous: true, remoteUrl: 'http://mcp.example.com/mcp' },
      'RunConfigInvalid',
      /remoteUrl/,
    ],
  ])('%s', (_label, spec, reason, message) => {
    const d = desiredState(mrp(spec), none, OPTIONS);
    expect(d.children).toBeUndefined();
    expect(d.conditions.ConfigValid).toMatchObject({ status: 'False', reason });
    expect(d.conditions.ConfigValid.message).toMatch(message);
  });

  it('missing references name what is missing', () => {
    const d = desiredState(
      mrp({
        oidcConfigRef: { name: 'corp', audience: 'a' },
        headerForward: { fromSecret: [{ header: 'X-K', valueSecretRef: { name: 's', key: 'nope' } }] },
      }),
      lookupOf({ Secret: { s: secretObj({ k: 'v' }) } }),
      OPTIONS,
    );
    expect(d.children).toBeUndefined();
    expect(d.conditions.ReferencesResolved).toMatchObject({ status: 'False', reason: 'ReferenceNotFound' });
    expect(d.conditions.ReferencesResolved.message).toContain('MCPOIDCConfig "corp" not found');
    expect(d.conditions.ReferencesResolved.message).toContain('Secret "s" has no key "nope"');
    expect(d.conditions.AuthConfigured).toMatchObject({ status: 'False', reason: 'OIDCConfigUnavailable' });
    expect(d.references).toEqual([
      { kind: 'MCPOIDCConfig', name: 'corp' },
      { kind: 'Secret', name: 's' },
    ]);
  });

  it('an invalid referenced config is ReferenceInvalid', () => {
    const d = desiredState(
      mrp({ anonymous: true, externalAuthConfigRef: { name: 'ext' } }),
      lookupOf({ MCPExternalAuthConfig: { ext: specObj({ type: 'tokenExchange' }) } }),
      OPTIONS,
    );
    expect(d.conditions.ReferencesResolved).toMatchObject({ status: 'False', reason: 'ReferenceInvalid' });
    expect(d.conditions.ReferencesResolved.message).toMatch(/MCPExternalAuthConfig "ext"/);
  });

  it('token exchange with anonymous inbound auth is refused by the RunConfig rules', () => {
    const objs: Objs = {
      Secret: { s: secretObj({ k: 'v' }) },
      MCPExternalAuthConfig: {
        ext: specObj({
          type: 'tokenExchange',
          tokenExchange: {
            tokenUrl: 'https://s.example.com/t',
            clientId: 'c',
            clientSecretRef: { name: 's', key: 'k' },
          },
        }),
      },
    };
    const d = desiredState(
      mrp({ anonymous: true, externalAuthConfigRef: { name: 'ext' } }),
      lookupOf(objs),
      OPTIONS,
    );
    expect(d.conditions.ConfigValid).toMatchObject({ status: 'False', reason: 'RunConfigInvalid' });
    expect(d.conditions.ConfigValid.message).toMatch(/tokenExchange.grant/);
  });

  it('a header set by both the external auth config and headerForward is a conflict', () => {
    const objs: Objs = {
      Secret: { s: secretObj({ k: 'v' }) },
      MCPExternalAuthConfig: {
        ext: specObj({
          type: 'headerInjection',
          headerInjection: { headerName: 'X-Key', valueSecretRef: { name: 's', key: 'k' } },
        }),
      },
    };
    const d = desiredState(
      mrp({
        anonymous: true,
        externalAuthConfigRef: { name: 'ext' },
        headerForward: { fromSecret: [{ header: 'x-key', valueSecretRef: { name: 's', key: 'k' } }] },
      }),
      lookupOf(objs),
      OPTIONS,
    );
    expect(d.conditions.ConfigValid).toMatchObject({ status: 'False', reason: 'RunConfigInvalid' });
    expect(d.conditions.ConfigValid.message).toMatch(/set twice/);
  });
});
