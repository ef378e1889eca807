/**
 * RunConfig of a workload: the local listener, the remote, and the middleware sections built from
 * the `run` flags. The upstream credential (OAuth session or static token) is not part of it: the
 * CLI adds it as the innermost middleware.
 */
import type { RunConfigInput } from '@bastion-mcp/runner';
import { usageError } from '../errors.js';
import type { WorkloadDefinition } from './types.js';

export interface MiddlewareFlags {
  oidcIssuer?: string | undefined;
  oidcAudience?: string | undefined;
  oidcJwksUrl?: string | undefined;
  oidcIntrospectionUrl?: string | undefined;
  oidcClientId?: string | undefined;
  oidcClientSecretEnv?: string | undefined;
  oidcScopes?: string | undefined;
  authzPolicy?: string | undefined;
  authzEntities?: string | undefined;
  audit?: string | boolean | undefined;
  tools?: string | undefined;
  toolOverride?: string[] | undefined;
}

export const splitList = (value: string): string[] =>
  value
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

/** Parse repeatable `key=value` flags. */
export function parsePairs(values: readonly string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const i = v.indexOf('=');
    if (i <= 0)
      throw usageError(`${flag} "${v}" is not of the form key=value`, `Write it as ${flag} key=value`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

/** RunConfig sections from middleware flags (relative file paths made absolute by the caller). */
export function middlewareFromFlags(
  flags: MiddlewareFlags,
  resolvePath: (p: string) => string,
): Partial<RunConfigInput> {
  const out: Record<string, unknown> = {};
  if (flags.oidcIssuer || flags.oidcAudience) {
    if (!flags.oidcIssuer || !flags.oidcAudience) {
      throw usageError('--oidc-issuer and --oidc-audience go together', 'Pass both, or neither');
    }
    out.auth = {
      mode: 'oidc',
      issuer: flags.oidcIssuer,
      audience: flags.oidcAudience,
      ...(flags.oidcJwksUrl ? { jwksUrl: flags.oidcJwksUrl } : {}),
      ...(flags.oidcIntrospectionUrl ? { introspectionUrl: flags.oidcIntrospectionUrl } : {}),
      ...(flags.oidcClientId ? { clientId: flags.oidcClientId } : {}),
      ...(flags.oidcClientSecretEnv ? { clientSecretEnv: flags.oidcClientSecretEnv } : {}),
      ...(flags.oidcScopes ? { scopes: splitList(flags.oidcScopes) } : {}),
    };
  }
  if (flags.authzPolicy) {
    out.authz = {
      policyFile: resolvePath(flags.authzPolicy),
      ...(flags.authzEntities ? { entitiesFile: resolvePath(flags.authzEntities) } : {}),
    };
  } else if (flags.authzEntities) {
    throw usageError('--authz-entities needs --authz-policy', 'Add --authz-policy <file.cedar>');
  }
  if (flags.audit !== undefined && flags.audit !== false) {
    const dest = flags.audit === true ? 'stdout' : flags.audit;
    out.audit = {
      enabled: true,
      sinks: [dest === 'stdout' ? { type: 'stdout' } : { type: 'file', path: resolvePath(dest) }],
    };
  }
  const overrides = parsePairs(flags.toolOverride, '--tool-override');
  if (flags.tools || Object.keys(overrides).length > 0) {
    out.tools = {
      ...(flags.tools ? { filter: splitList(flags.tools) } : {}),
      ...(Object.keys(overrides).length > 0
        ? { overrides: Object.fromEntries(Object.entries(overrides).map(([k, v]) => [k, { name: v }])) }
        : {}),
    };
  }
  return out as Partial<RunConfigInput>;
}

/** The RunConfig input of a workload listening on `port` (0 = any free port). */
export function runConfigOf(def: WorkloadDefinition, port: number): RunConfigInput {
  const path = def.transport === 'sse' ? '/sse' : '/mcp';
  const mw = { ...def.middleware } as Record<string, unknown>;
  let auth = mw.auth as Record<string, unknown> | undefined;
  if (auth?.mode === 'oidc' && !auth.resourceUrl) {
    auth = { ...auth, resourceUrl: `http://127.0.0.1:${port}${path}` };
  }
  delete mw.auth;
  return {
    schemaVersion: 1,
    name: def.name,
    remoteUrl: def.remoteUrl,
    transport: def.transport,
    listen: {
      host: '127.0.0.1',
      port,
      path,
      ...(def.allowedOrigins && def.allowedOrigins.length > 0
        ? { allowedOrigins: [...def.allowedOrigins] }
        : {}),
    },
    // The remote is the user's choice on their own machine: loopback/private remotes are allowed.
    insecureLoopback: true,
    allowPrivateEndpoint: true,
    auth: (auth ?? { mode: 'anonymous' }) as RunConfigInput['auth'],
    ...mw,
  } as RunConfigInput;
}
