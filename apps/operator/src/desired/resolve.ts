/**
 * Resolution of everything a proxy references: which objects it names (for the reverse index) and
 * whether they exist with the keys it needs. Cross-namespace references cannot be expressed (refs
 * carry only a name), and `namespace` keys are refused by the schema.
 */
import {
  type ExternalAuthSpec,
  externalAuthSpecSchema,
  type OidcConfigSpec,
  oidcConfigSpecSchema,
  type ProxySpec,
  type SecretKeyRef,
  type ToolConfigSpec,
  toolConfigSpecSchema,
} from '../api/schemas.js';
import { foreignNamespaces } from './foreign-namespaces.js';
import { describeZodIssues } from './zod-issues.js';
import type { KubeObject, Reference, RefLookup } from './types.js';

export interface Resolution {
  /** Every object the proxy depends on, resolved or not. */
  readonly references: Reference[];
  /** Human-readable problems: missing objects or keys. */
  readonly missing: string[];
  /** Referenced configs whose own spec is invalid. */
  readonly invalid: Array<{ kind: string; name: string; message: string }>;
  oidcConfig?: OidcConfigSpec;
  externalAuth?: ExternalAuthSpec;
  toolConfig?: ToolConfigSpec;
  authzPolicyText?: string;
  /** Version stamps of the referenced objects, for the rollout hash (no secret values). */
  readonly versions: string[];
}

function stamp(obj: KubeObject): string {
  return `${obj.metadata?.uid ?? ''}@${obj.metadata?.resourceVersion ?? ''}`;
}

export function resolveReferences(spec: ProxySpec, lookup: RefLookup): Resolution {
  const res: Resolution = { references: [], missing: [], invalid: [], versions: [] };
  const seen = new Set<string>();
  const ref = (kind: Reference['kind'], name: string): KubeObject | undefined => {
    const key = `${kind}/${name}`;
    if (!seen.has(key)) {
      seen.add(key);
      res.references.push({ kind, name });
    }
    const obj = lookup(kind, name);
    if (!obj) res.missing.push(`${kind} "${name}" not found`);
    return obj;
  };
  const secretKey = (s: SecretKeyRef, what: string) => {
    const obj = ref('Secret', s.name);
    if (!obj) return;
    res.versions.push(`Secret/${s.name}=${stamp(obj)}`);
    if (obj.data?.[s.key] === undefined)
      res.missing.push(`Secret "${s.name}" has no key "${s.key}" (${what})`);
  };
  const config = <T>(
    kind: Reference['kind'],
    name: string,
    schema: {
      safeParse(v: unknown): { success: true; data: T } | { success: false; error: import('zod').ZodError };
    },
  ): T | undefined => {
    const obj = ref(kind, name);
    if (!obj) return undefined;
    res.versions.push(`${kind}/${name}=${stamp(obj)}`);
    const parsed = schema.safeParse(obj.spec);
    if (!parsed.success) {
      res.invalid.push({ kind, name, message: describeZodIssues(parsed.error, 'spec') });
      return undefined;
    }
    const foreign = foreignNamespaces(obj.spec, obj.metadata?.namespace ?? '');
    if (foreign.length > 0) {
      res.invalid.push({
        kind,
        name,
        message: `cross-namespace references are refused: ${foreign.join('; ')}`,
      });
      return undefined;
    }
    return parsed.data;
  };

  if (spec.oidcConfig?.clientSecretRef)
    secretKey(spec.oidcConfig.clientSecretRef, 'oidcConfig.clientSecretRef');
  if (spec.oidcConfigRef) {
    const oidc = config('MCPOIDCConfig', spec.oidcConfigRef.name, oidcConfigSpecSchema);
    if (oidc) {
      res.oidcConfig = oidc;
      if (oidc.clientSecretRef) secretKey(oidc.clientSecretRef, `MCPOIDCConfig ${spec.oidcConfigRef.name}`);
    }
  }
  if (spec.externalAuthConfigRef) {
    const name = spec.externalAuthConfigRef.name;
    const ext = config('MCPExternalAuthConfig', name, externalAuthSpecSchema);
    if (ext) {
      res.externalAuth = ext;
      const s =
        ext.tokenExchange?.clientSecretRef ??
        ext.clientCredentials?.clientSecretRef ??
        ext.headerInjection?.valueSecretRef;
      if (s) secretKey(s, `MCPExternalAuthConfig ${name}`);
    }
  }
  if (spec.toolConfigRef) {
    const tc = config('MCPToolConfig', spec.toolConfigRef.name, toolConfigSpecSchema);
    if (tc) res.toolConfig = tc;
  }
  if (spec.authz?.configMapRef) {
    const { name, key } = spec.authz.configMapRef;
    const cm = ref('ConfigMap', name);
    if (cm) {
      res.versions.push(`ConfigMap/${name}=${stamp(cm)}`);
      const text = cm.data?.[key];
      if (text === undefined)
        res.missing.push(`ConfigMap "${name}" has no key "${key}" (authz.configMapRef)`);
      else res.authzPolicyText = text;
    }
  }
  for (const [i, h] of (spec.headerForward?.fromSecret ?? []).entries()) {
    secretKey(h.valueSecretRef, `headerForward.fromSecret[${i}] ${h.header}`);
  }
  return res;
}
