/**
 * The RunConfig schema: the one configuration format of Bastion (PRODUCT.md §4). Strict: unknown keys
 * are errors, secrets are only referenced (environment variable or file), never inlined.
 *
 * Key names are a public contract (the operator, the CLI and users' files depend on them).
 */
import { z } from 'zod';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Header names that may never be configured: hop-by-hop, framing, or owned by the MCP protocol. */
export const RESTRICTED_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-authorization',
  'proxy-authenticate',
  'proxy-connection',
  'mcp-session-id',
  'mcp-protocol-version',
  'mcp-method',
  'mcp-name',
  'last-event-id',
  'cookie',
  'set-cookie',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'forwarded',
  'via',
]);

const envVarName = (what: string) =>
  z.string().refine((v) => ENV_NAME.test(v), {
    error: (iss) =>
      `must name an environment variable that holds the ${what} (letters, digits, underscore), not the ${what} itself; got a value of ${String(iss.input).length} characters`,
  });

const filePath = z.string().min(1, 'must be a non-empty file path');

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' });

const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be a valid HTTP header name')
  .refine((h) => !RESTRICTED_HEADERS.has(h.toLowerCase()), {
    error: (iss) =>
      `header "${String(iss.input)}" is restricted (hop-by-hop, framing or MCP protocol header) and cannot be forwarded`,
  });

const positiveMs = z.number().int().positive();

export const listenSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
  /** Local MCP endpoint path. */
  path: z.string().startsWith('/').default('/mcp'),
  /** Allowed `Origin` values (DNS-rebinding defence). Unset: no Origin, or a loopback Origin on a loopback listener. */
  allowedOrigins: z.array(z.string().min(1)).optional(),
  /** Allowed `Host` header values. Unset: any. */
  allowedHosts: z.array(z.string().min(1)).optional(),
});

export const metricsSchema = z.strictObject({
  enabled: z.boolean().default(true),
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(9464),
});

export const claimsSchema = z.strictObject({
  user: z.string().min(1).default('sub'),
  groups: z.string().min(1).default('groups'),
  roles: z.string().min(1).default('roles'),
  name: z.string().min(1).default('name'),
  email: z.string().min(1).default('email'),
});

const oidcAuthSchema = z.strictObject({
  mode: z.literal('oidc'),
  issuer: httpUrl,
  audience: z.string().min(1),
  jwksUrl: httpUrl.optional(),
  introspectionUrl: httpUrl.optional(),
  clientId: z.string().min(1).optional(),
  clientSecretEnv: envVarName('client secret').optional(),
  clientSecretFile: filePath.optional(),
  /** This proxy's public URL (the RFC 9728 `resource`). */
  resourceUrl: httpUrl,
  /** Scopes advertised in metadata and challenges. */
  scopes: z.array(z.string().min(1)).optional(),
  /** Scopes every token must carry (403 insufficient_scope otherwise). */
  requiredScopes: z.array(z.string().min(1)).optional(),
  clockSkewSeconds: z.number().int().min(0).max(600).default(30),
  algorithms: z
    .array(z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']))
    .optional(),
  /** Require the JWT `typ` header to be `at+jwt` (RFC 9068). */
  requireAtJwtType: z.boolean().default(false),
  claims: claimsSchema.prefault({}),
  /** Let the token's own Authorization header reach the remote unchanged (off by default: token passthrough is an anti-pattern). */
  passthroughToken: z.boolean().default(false),
});

const anonymousAuthSchema = z.strictObject({
  mode: z.literal('anonymous'),
  /** User id of the local identity. */
  user: z.string().min(1).default('anonymous'),
});

export const authSchema = z.discriminatedUnion('mode', [oidcAuthSchema, anonymousAuthSchema]);

export const tokenExchangeSchema = z
  .strictObject({
    grant: z.enum(['token-exchange', 'client_credentials']).default('token-exchange'),
    tokenUrl: httpUrl.optional(),
    issuer: httpUrl.optional(),
    clientId: z.string().min(1),
    clientSecretEnv: envVarName('client secret').optional(),
    clientSecretFile: filePath.optional(),
    clientAuth: z
      .enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt'])
      .default('client_secret_basic'),
    privateKeyEnv: envVarName('private key').optional(),
    privateKeyFile: filePath.optional(),
    audience: z.string().min(1).optional(),
    resource: httpUrl.optional(),
    scopes: z.array(z.string().min(1)).optional(),
    subjectTokenType: z.enum(['access_token', 'id_token']).default('access_token'),
    requestedTokenType: z.string().min(1).optional(),
    skewSeconds: z.number().int().min(0).max(3600).default(30),
    header: z.strictObject({ name: headerName, keepOriginal: z.boolean().default(false) }).optional(),
  })
  .superRefine((v, ctx) => {
    if (!v.tokenUrl && !v.issuer) {
      ctx.addIssue({
        code: 'custom',
        path: ['tokenUrl'],
        message: 'set "tokenUrl" or "issuer" (for discovery)',
      });
    }
    if (v.clientAuth === 'private_key_jwt') {
      if (!v.privateKeyEnv && !v.privateKeyFile) {
        ctx.addIssue({
          code: 'custom',
          path: ['privateKeyFile'],
          message: 'private_key_jwt needs "privateKeyFile" or "privateKeyEnv"',
        });
      }
    } else if (!v.clientSecretEnv && !v.clientSecretFile) {
      ctx.addIssue({
        code: 'custom',
        path: ['clientSecretEnv'],
        message: `${v.clientAuth} needs "clientSecretEnv" or "clientSecretFile"`,
      });
    }
  });

export const upstreamAuthSchema = z.strictObject({
  bearerTokenEnv: envVarName('bearer token').optional(),
  bearerTokenFile: filePath.optional(),
});

export const authzSchema = z.strictObject({
  policies: z.array(z.string().min(1)).optional(),
  policyFile: filePath.optional(),
  entities: z.array(z.record(z.string(), z.unknown())).optional(),
  entitiesFile: filePath.optional(),
  schemaFile: filePath.optional(),
  groupEntityType: z.string().min(1).default('Group'),
  roleEntityType: z.string().min(1).default('Role'),
  defaultUnknownMethod: z.enum(['deny', 'allow']).default('deny'),
});

const auditSinkSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('stdout') }),
  z.strictObject({
    type: z.literal('file'),
    path: filePath,
    maxBytes: z
      .number()
      .int()
      .positive()
      .default(100 * 1024 * 1024),
    maxFiles: z.number().int().min(1).max(100).default(5),
    /** How long events are gathered before one write, ms (audit's default, 5, when absent). */
    flushIntervalMs: z.number().int().min(0).max(1000).optional(),
    /** `false` writes through the thread pool (network file systems); audit's default is `true`. */
    syncWrites: z.boolean().optional(),
  }),
  z.strictObject({ type: z.literal('otel') }),
]);

export const auditSchema = z.strictObject({
  enabled: z.boolean().default(true),
  sinks: z.array(auditSinkSchema).default([{ type: 'stdout' }]),
  include: z.array(z.string().min(1)).optional(),
  exclude: z.array(z.string().min(1)).optional(),
  payloads: z
    .strictObject({
      maxBytes: z.number().int().positive().default(4096),
      redactKeys: z.array(z.string().min(1)).optional(),
    })
    .optional(),
  /** CIDRs or addresses of proxies whose X-Forwarded-For is trusted. */
  trustedProxies: z.array(z.string().min(1)).optional(),
  queueSize: z.number().int().positive().optional(),
});

const toolOverrideSchema = z.strictObject({
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  annotations: z.record(z.string(), z.unknown()).optional(),
});

export const toolsSchema = z.strictObject({
  filter: z.array(z.string().min(1)).optional(),
  overrides: z.record(z.string().min(1), toolOverrideSchema).optional(),
});

export const telemetrySchema = z.strictObject({
  enabled: z.boolean().default(true),
  serviceName: z.string().min(1).optional(),
  prometheus: z.boolean().default(true),
  otlpEndpoint: httpUrl.optional(),
  sampleRatio: z.number().min(0).max(1).default(1),
  recordArguments: z.boolean().default(false),
  recordUserId: z.boolean().default(false),
});

export const headerForwardSchema = z.strictObject({
  plain: z.record(headerName, z.string()).optional(),
  fromEnv: z.record(headerName, envVarName('header value')).optional(),
});

export const limitsSchema = z.strictObject({
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .default(8 * 1024 * 1024),
  upstreamConnectTimeoutMs: positiveMs.default(10_000),
  upstreamHeadersTimeoutMs: positiveMs.default(60_000),
  /** Idle time allowed between body chunks of a non-streaming upstream response. SSE streams are exempt. */
  upstreamBodyTimeoutMs: positiveMs.default(300_000),
  shutdownGraceMs: positiveMs.default(25_000),
  /** Time a client has to send its request headers (slowloris); then 408. Default: proxy-core's (10 000). */
  clientHeadersTimeoutMs: positiveMs.optional(),
  /** Time a client has to send its whole request; answers (SSE) are not bounded. Default: proxy-core's (30 000). */
  clientRequestTimeoutMs: positiveMs.optional(),
});

export const runConfigSchema = z
  .strictObject({
    /** JSON Schema reference for editors (ignored). */
    $schema: z.string().optional(),
    schemaVersion: z.literal(1, { error: 'must be 1 (the only RunConfig version so far)' }),
    name: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a lower-case DNS label (a-z, 0-9, -)')
      .max(63),
    remoteUrl: httpUrl,
    transport: z.enum(['streamable-http', 'sse']).default('streamable-http'),
    listen: listenSchema.prefault({}),
    metrics: metricsSchema.optional(),
    insecureLoopback: z.boolean().default(false),
    allowPrivateEndpoint: z.boolean().default(false),
    auth: authSchema,
    tokenExchange: tokenExchangeSchema.optional(),
    upstreamAuth: upstreamAuthSchema.optional(),
    authz: authzSchema.optional(),
    audit: auditSchema.optional(),
    tools: toolsSchema.optional(),
    telemetry: telemetrySchema.optional(),
    headerForward: headerForwardSchema.optional(),
    limits: limitsSchema.prefault({}),
  })
  .superRefine((cfg, ctx) => {
    // proxy-core's defaults: headers 10 000, whole request 30 000 (node:http refuses headers > request).
    const headersMs = cfg.limits.clientHeadersTimeoutMs ?? 10_000;
    const requestMs = cfg.limits.clientRequestTimeoutMs ?? 30_000;
    const valid = (ms: unknown) => Number.isSafeInteger(ms) && (ms as number) > 0;
    if (valid(headersMs) && valid(requestMs) && headersMs > requestMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['limits', 'clientHeadersTimeoutMs'],
        message: `must not exceed limits.clientRequestTimeoutMs (${requestMs})`,
      });
    }
    if (cfg.tokenExchange && cfg.upstreamAuth) {
      ctx.addIssue({
        code: 'custom',
        path: ['upstreamAuth'],
        message: 'cannot be combined with "tokenExchange": choose one upstream credential',
      });
    }
    if (cfg.tokenExchange?.grant === 'token-exchange' && cfg.auth.mode === 'anonymous') {
      ctx.addIssue({
        code: 'custom',
        path: ['tokenExchange', 'grant'],
        message:
          '"token-exchange" needs an inbound token: use auth.mode "oidc" or grant "client_credentials"',
      });
    }
  });

/** RunConfig as written in a file (defaults optional). */
export type RunConfigInput = z.input<typeof runConfigSchema>;
/** RunConfig after validation (defaults applied). */
export type RunConfig = z.output<typeof runConfigSchema>;
export type AuthConfig = RunConfig['auth'];
export type OidcAuthConfig = Extract<AuthConfig, { mode: 'oidc' }>;
export type TokenExchangeConfig = NonNullable<RunConfig['tokenExchange']>;
export type AuthzConfig = NonNullable<RunConfig['authz']>;
export type AuditConfig = NonNullable<RunConfig['audit']>;
export type ToolsConfig = NonNullable<RunConfig['tools']>;
export type TelemetryConfig = NonNullable<RunConfig['telemetry']>;
export type HeaderForwardConfig = NonNullable<RunConfig['headerForward']>;
export type LimitsConfig = RunConfig['limits'];
