/**
 * Builds the RunConfig of one proxy (PRODUCT.md §4) from its validated spec and the objects it
 * references, plus the environment variables (all `secretKeyRef`) the RunConfig names.
 */
import type { RunConfigInput } from '@bastion-mcp/runner';
import type {
  ExternalAuthSpec,
  OidcConfigSpec,
  ProxySpec,
  SecretKeyRef,
  ToolConfigSpec,
} from '../api/schemas.js';
import { ENV, METRICS_PORT } from './names.js';

export interface SecretEnv {
  readonly name: string;
  readonly secret: SecretKeyRef;
}

export interface RunConfigInputs {
  readonly name: string;
  readonly spec: ProxySpec;
  readonly url: string;
  readonly insecureLoopback: boolean;
  readonly oidcConfig?: OidcConfigSpec;
  readonly externalAuth?: ExternalAuthSpec;
  readonly toolConfig?: ToolConfigSpec;
  /** Cedar text from the authz ConfigMap. */
  readonly authzPolicyText?: string;
}

export interface BuiltRunConfig {
  readonly runConfig: RunConfigInput;
  readonly env: readonly SecretEnv[];
  /** Problems found while combining the inputs (e.g. a header set twice). */
  readonly conflicts: readonly string[];
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

function definedOnly<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function buildRunConfig(input: RunConfigInputs): BuiltRunConfig {
  const { spec } = input;
  const env: SecretEnv[] = [];
  const conflicts: string[] = [];
  const rc: Writable<RunConfigInput> = {
    schemaVersion: 1,
    name: input.name,
    remoteUrl: spec.remoteUrl,
    transport: spec.transport,
    listen: { host: '0.0.0.0', port: spec.port, path: '/mcp' },
    allowPrivateEndpoint: spec.allowPrivateEndpoint,
    auth: { mode: 'anonymous' },
  };
  if (input.insecureLoopback) rc.insecureLoopback = true;

  const prometheus = spec.telemetry?.prometheus ?? true;
  if (prometheus) rc.metrics = { enabled: true, host: '0.0.0.0', port: METRICS_PORT };
  rc.telemetry = definedOnly({
    serviceName: spec.telemetry?.serviceName ?? input.name,
    prometheus,
    otlpEndpoint: spec.telemetry?.otlpEndpoint,
    sampleRatio: spec.telemetry?.sampleRatio,
  });

  // inbound authentication
  const inline = spec.oidcConfig;
  const shared =
    spec.oidcConfigRef && input.oidcConfig ? { ...input.oidcConfig, ...spec.oidcConfigRef } : undefined;
  const oidc = inline ?? shared;
  if (oidc) {
    if (oidc.clientSecretRef) env.push({ name: ENV.oidcClientSecret, secret: oidc.clientSecretRef });
    rc.auth = definedOnly({
      mode: 'oidc' as const,
      issuer: oidc.issuer,
      audience: oidc.audience,
      jwksUrl: oidc.jwksUrl,
      introspectionUrl: oidc.introspectionUrl,
      clientId: oidc.clientId,
      clientSecretEnv: oidc.clientSecretRef ? ENV.oidcClientSecret : undefined,
      resourceUrl: oidc.resourceUrl ?? input.url,
      scopes: spec.oidcConfigRef?.scopes ?? oidc.scopes,
      requiredScopes: oidc.requiredScopes,
      clockSkewSeconds: oidc.clockSkewSeconds,
      claims: oidc.claims,
    });
  }

  // outbound credential
  const headersFromEnv: Record<string, string> = {};
  const ext = input.externalAuth;
  if (ext?.type === 'tokenExchange' && ext.tokenExchange) {
    const te = ext.tokenExchange;
    env.push({ name: ENV.tokenExchangeClientSecret, secret: te.clientSecretRef });
    rc.tokenExchange = definedOnly({
      grant: 'token-exchange' as const,
      tokenUrl: te.tokenUrl,
      clientId: te.clientId,
      clientSecretEnv: ENV.tokenExchangeClientSecret,
      audience: te.audience,
      resource: te.resource,
      scopes: te.scopes,
      subjectTokenType: te.subjectTokenType,
      header: te.headerName ? { name: te.headerName } : undefined,
    });
  } else if (ext?.type === 'clientCredentials' && ext.clientCredentials) {
    const cc = ext.clientCredentials;
    env.push({ name: ENV.tokenExchangeClientSecret, secret: cc.clientSecretRef });
    rc.tokenExchange = definedOnly({
      grant: 'client_credentials' as const,
      tokenUrl: cc.tokenUrl,
      clientId: cc.clientId,
      clientSecretEnv: ENV.tokenExchangeClientSecret,
      audience: cc.audience,
      resource: cc.resource,
      scopes: cc.scopes,
    });
  } else if (ext?.type === 'headerInjection' && ext.headerInjection) {
    const hi = ext.headerInjection;
    if (hi.headerName.toLowerCase() === 'authorization') {
      env.push({ name: ENV.upstreamToken, secret: hi.valueSecretRef });
      rc.upstreamAuth = { bearerTokenEnv: ENV.upstreamToken };
    } else {
      env.push({ name: ENV.upstreamHeader, secret: hi.valueSecretRef });
      headersFromEnv[hi.headerName] = ENV.upstreamHeader;
    }
  }

  // forwarded headers
  const hf = spec.headerForward;
  (hf?.fromSecret ?? []).forEach((h, i) => {
    const clash = Object.keys(headersFromEnv).find((k) => k.toLowerCase() === h.header.toLowerCase());
    if (clash) conflicts.push(`header "${h.header}" is set twice (headerForward and externalAuthConfigRef)`);
    env.push({ name: ENV.headerForward(i), secret: h.valueSecretRef });
    headersFromEnv[h.header] = ENV.headerForward(i);
  });
  for (const h of Object.keys(hf?.plain ?? {})) {
    if (Object.keys(headersFromEnv).some((k) => k.toLowerCase() === h.toLowerCase()))
      conflicts.push(`header "${h}" is set twice (headerForward.plain and a Secret-backed header)`);
  }
  if (hf?.plain || Object.keys(headersFromEnv).length > 0) {
    rc.headerForward = definedOnly({
      plain: hf?.plain,
      fromEnv: Object.keys(headersFromEnv).length > 0 ? headersFromEnv : undefined,
    });
  }

  // policies, audit, tools
  if (spec.authz) {
    const policies =
      spec.authz.policies ?? (input.authzPolicyText !== undefined ? [input.authzPolicyText] : []);
    rc.authz = definedOnly({
      policies,
      groupEntityType: spec.authz.groupEntityType,
      defaultUnknownMethod: spec.authz.defaultUnknownMethod,
    });
  }
  if (spec.audit) {
    rc.audit = definedOnly({
      enabled: spec.audit.enabled,
      sinks: [{ type: 'stdout' as const }],
      include: spec.audit.include,
      exclude: spec.audit.exclude,
      payloads: spec.audit.payloadMaxBytes ? { maxBytes: spec.audit.payloadMaxBytes } : undefined,
    });
  }
  if (input.toolConfig && (input.toolConfig.filter || input.toolConfig.overrides)) {
    rc.tools = definedOnly({ filter: input.toolConfig.filter, overrides: input.toolConfig.overrides });
  }
  return { runConfig: rc, env, conflicts };
}
