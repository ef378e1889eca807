/**
 * The custom resources of `bastion-mcp.dev/v1alpha1`, written once in zod. The CRD OpenAPI schemas
 * (`deploy/crds/*.yaml`), the TypeScript types and the operator's own validation all derive from
 * these definitions. Only constructs that map onto a Kubernetes structural schema are used: objects,
 * arrays, string maps, enums, patterns, bounds and defaults (no unions, no transforms). Cross-field
 * rules live in `rules.ts` and are attached here as CEL `x-kubernetes-validations`.
 */
import { z } from 'zod';
import {
  type CrossFieldRule,
  authzRules,
  externalAuthRules,
  headerForwardRules,
  oidcRules,
  proxySpecRules,
} from './rules.js';

export const API_GROUP = 'bastion-mcp.dev';
export const API_VERSION = 'v1alpha1';
export const GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;

/** Attach cross-field rules: CEL for the CRD, the same checks in JavaScript for the operator. */
function withRules<T extends z.ZodObject>(schema: T, rules: readonly CrossFieldRule[]) {
  return schema
    .superRefine((value, ctx) => {
      for (const r of rules) {
        if (!r.check(value as Record<string, unknown>)) ctx.addIssue({ code: 'custom', message: r.message });
      }
    })
    .meta({ 'x-kubernetes-validations': rules.map((r) => ({ rule: r.rule, message: r.message })) });
}

const HTTP_URL = /^https?:\/\/[^\s/?#]+[^\s]*$/;
/** Kubernetes resource.Quantity syntax. */
const QUANTITY =
  /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

const httpUrl = (description: string) =>
  z.string().max(2048).regex(HTTP_URL, 'must be an absolute http(s) URL').meta({ description });

const objectName = (description: string) =>
  z.string().min(1).max(253).regex(DNS_SUBDOMAIN, 'must be a DNS subdomain name').meta({ description });

/**
 * Kept in the schema only so that a cross-namespace reference is reported (ConfigValid=False,
 * CrossNamespaceReference) instead of being pruned silently and resolved in the wrong namespace.
 */
const refNamespace = z.string().optional().meta({
  description: 'Must be empty or the object’s own namespace: cross-namespace references are refused.',
});

/** A key of a Secret in the same namespace. */
export const secretKeyRefSchema = z
  .strictObject({
    name: objectName('Name of a Secret in the same namespace.'),
    key: z.string().min(1).max(253).regex(SECRET_KEY).meta({ description: 'Key inside the Secret.' }),
    namespace: refNamespace,
  })
  .meta({ description: 'A key of a Secret in the same namespace (cross-namespace references are refused).' });

export const localRefSchema = z.strictObject({
  name: objectName('Name of an object in the same namespace.'),
  namespace: refNamespace,
});

const stringList = z.array(z.string().min(1));

const claimsSchema = z
  .strictObject({
    user: z.string().min(1).optional().meta({ description: 'Claim holding the user id (default sub).' }),
    groups: z.string().min(1).optional().meta({ description: 'Claim holding group names (default groups).' }),
    roles: z.string().min(1).optional().meta({ description: 'Claim holding role names (default roles).' }),
  })
  .meta({ description: 'Token claims mapped onto the identity.' });

/** Issuer-level inbound OIDC settings, shared by inline `oidcConfig` and `MCPOIDCConfig`. */
const oidcIssuerFields = {
  issuer: httpUrl('Issuer URL of the authorization server whose tokens the proxy accepts.'),
  jwksUrl: httpUrl('JWKS URL (default: from discovery).').optional(),
  introspectionUrl: httpUrl('RFC 7662 introspection endpoint for opaque tokens.').optional(),
  clientId: z.string().min(1).optional().meta({ description: 'Client id used for introspection.' }),
  clientSecretRef: secretKeyRefSchema.optional(),
  requiredScopes: stringList.optional().meta({ description: 'Scopes every token must carry.' }),
  clockSkewSeconds: z.number().int().min(0).max(600).optional(),
  claims: claimsSchema.optional(),
};

export const inlineOidcSchema = withRules(
  z
    .strictObject({
      ...oidcIssuerFields,
      audience: z.string().min(1).meta({ description: 'Audience tokens must carry; unique per proxy.' }),
      resourceUrl: httpUrl('Public URL of this proxy (RFC 9728 resource). Default: status.url.').optional(),
      scopes: stringList.optional().meta({ description: 'Scopes advertised in metadata and challenges.' }),
    })
    .meta({ description: 'Inline inbound OIDC settings.' }),
  oidcRules,
);

export const oidcConfigRefSchema = z
  .strictObject({
    name: objectName('Name of an MCPOIDCConfig in the same namespace.'),
    namespace: refNamespace,
    audience: z.string().min(1).meta({ description: 'Audience tokens must carry; unique per proxy.' }),
    resourceUrl: httpUrl('Public URL of this proxy (RFC 9728 resource). Default: status.url.').optional(),
    scopes: stringList.optional().meta({ description: 'Scopes advertised (default: the config’s scopes).' }),
  })
  .meta({ description: 'Inbound OIDC settings from a shared MCPOIDCConfig plus this proxy’s audience.' });

export const authzSpecSchema = withRules(
  z
    .strictObject({
      policies: z.array(z.string().min(1)).min(1).optional().meta({ description: 'Inline Cedar policies.' }),
      configMapRef: z
        .strictObject({
          name: objectName('Name of a ConfigMap in the same namespace.'),
          namespace: refNamespace,
          key: z.string().min(1).max(253).regex(SECRET_KEY).default('policies.cedar'),
        })
        .optional()
        .meta({ description: 'ConfigMap key holding Cedar policies.' }),
      groupEntityType: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
        .max(63)
        .optional(),
      defaultUnknownMethod: z.enum(['deny', 'allow']).default('deny'),
    })
    .meta({ description: 'Cedar authorization: inline policies or a ConfigMap reference.' }),
  authzRules,
);

export const auditSpecSchema = z.strictObject({
  enabled: z.boolean().default(true),
  include: stringList.optional().meta({ description: 'MCP methods to audit (default: all).' }),
  exclude: stringList.optional(),
  payloadMaxBytes: z.number().int().min(1).max(1048576).optional().meta({
    description: 'Record request payloads up to this size (off when unset).',
  }),
});

export const telemetrySpecSchema = z.strictObject({
  serviceName: z.string().min(1).optional(),
  otlpEndpoint: httpUrl('OTLP/HTTP endpoint for traces and metrics.').optional(),
  sampleRatio: z.number().min(0).max(1).optional(),
  prometheus: z.boolean().default(true).meta({ description: 'Serve /metrics on port 9464.' }),
});

export const headerForwardSpecSchema = withRules(
  z.strictObject({
    plain: z
      .record(z.string().regex(HEADER_NAME), z.string())
      .optional()
      .meta({ description: 'Headers with literal values (stored in the RunConfig ConfigMap: no secrets).' }),
    fromSecret: z
      .array(
        z.strictObject({
          header: z.string().min(1).max(255).regex(HEADER_NAME),
          valueSecretRef: secretKeyRefSchema,
        }),
      )
      .optional()
      .meta({ description: 'Headers whose values come from Secrets (env vars via secretKeyRef).' }),
  }),
  headerForwardRules,
);

const quantityMap = z.record(z.string().min(1), z.string().regex(QUANTITY, 'must be a Kubernetes quantity'));

export const resourcesSpecSchema = z
  .strictObject({ limits: quantityMap.optional(), requests: quantityMap.optional() })
  .meta({ description: 'Container resources (default requests cpu 50m, memory 64Mi; limits memory 256Mi).' });

export const proxySpecSchema = withRules(
  z.strictObject({
    remoteUrl: httpUrl('The remote MCP endpoint.'),
    transport: z.enum(['streamable-http', 'sse']).default('streamable-http'),
    port: z.number().int().min(1).max(65535).default(8080).meta({ description: 'Port of the proxy.' }),
    replicas: z
      .number()
      .int()
      .min(0)
      .optional()
      .meta({ description: 'Pod count; unset leaves Deployment replicas to an autoscaler.' }),
    anonymous: z.boolean().optional().meta({ description: 'Explicit opt-out of inbound authentication.' }),
    oidcConfig: inlineOidcSchema.optional(),
    oidcConfigRef: oidcConfigRefSchema.optional(),
    externalAuthConfigRef: localRefSchema
      .optional()
      .meta({ description: 'MCPExternalAuthConfig for the credential sent to the remote.' }),
    authz: authzSpecSchema.optional(),
    audit: auditSpecSchema.optional(),
    toolConfigRef: localRefSchema
      .optional()
      .meta({ description: 'MCPToolConfig (tool filter and overrides).' }),
    telemetry: telemetrySpecSchema.optional(),
    headerForward: headerForwardSpecSchema.optional(),
    resources: resourcesSpecSchema.optional(),
    podTemplateSpec: z.record(z.string(), z.unknown()).optional().meta({
      description:
        'Pod template fields merged over the generated one (containers matched by name; ours is "proxy").',
      'x-kubernetes-preserve-unknown-fields': true,
    }),
    allowPrivateEndpoint: z.boolean().default(false).meta({
      description:
        'Allow a remote in private address ranges or in-cluster names (loopback/link-local stay refused).',
    }),
  }),
  proxySpecRules,
);

export const conditionSchema = z.strictObject({
  type: z.string().min(1).max(316),
  status: z.enum(['True', 'False', 'Unknown']),
  observedGeneration: z.number().int().min(0).optional(),
  lastTransitionTime: z.string().meta({ format: 'date-time' }),
  reason: z
    .string()
    .min(1)
    .max(1024)
    .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/),
  message: z.string().max(32768),
});

export const proxyStatusSchema = z.strictObject({
  phase: z.enum(['Pending', 'Ready', 'Failed']).optional(),
  url: z.string().optional().meta({ description: 'In-cluster URL of the MCP endpoint.' }),
  observedGeneration: z.number().int().min(0).optional(),
  configHash: z.string().optional().meta({ description: 'Hash rolled into the pod template.' }),
  conditions: z
    .array(conditionSchema)
    .optional()
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] }),
});

const credentialGrantFields = {
  tokenUrl: httpUrl('Token endpoint of the authorization server.'),
  clientId: z.string().min(1),
  clientSecretRef: secretKeyRefSchema,
  audience: z.string().min(1).optional(),
  resource: httpUrl('RFC 8707 resource indicator.').optional(),
  scopes: stringList.optional(),
};

export const externalAuthSpecSchema = withRules(
  z.strictObject({
    type: z.enum(['tokenExchange', 'clientCredentials', 'headerInjection']),
    tokenExchange: z
      .strictObject({
        ...credentialGrantFields,
        subjectTokenType: z.enum(['access_token', 'id_token']).default('access_token'),
        headerName: z
          .string()
          .regex(HEADER_NAME)
          .optional()
          .meta({ description: 'Send the exchanged token in this header instead of Authorization.' }),
      })
      .optional()
      .meta({ description: 'RFC 8693 exchange of the validated inbound token.' }),
    clientCredentials: z
      .strictObject(credentialGrantFields)
      .optional()
      .meta({ description: 'One service token for every caller (client_credentials grant).' }),
    headerInjection: z
      .strictObject({
        headerName: z.string().regex(HEADER_NAME).default('Authorization'),
        valueSecretRef: secretKeyRefSchema,
      })
      .optional()
      .meta({
        description: 'A static credential; Authorization carries the Secret value as a bearer token.',
      }),
  }),
  externalAuthRules,
);

export const toolConfigSpecSchema = z.strictObject({
  filter: stringList.optional().meta({ description: 'Allow-list of user-facing tool names.' }),
  overrides: z
    .record(
      z.string().min(1),
      z.strictObject({ name: z.string().min(1).optional(), description: z.string().optional() }),
    )
    .optional()
    .meta({ description: 'Rename or re-describe tools, keyed by the remote tool name.' }),
});

export const oidcConfigSpecSchema = withRules(
  z.strictObject({
    ...oidcIssuerFields,
    scopes: stringList.optional().meta({ description: 'Scopes advertised in metadata and challenges.' }),
  }),
  oidcRules,
);

/** Status of the companion config kinds: written by nobody but reserved for future use. */
export const configStatusSchema = z.strictObject({
  observedGeneration: z.number().int().min(0).optional(),
  conditions: z
    .array(conditionSchema)
    .optional()
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] }),
});

export type ProxySpec = z.output<typeof proxySpecSchema>;
export type ProxySpecInput = z.input<typeof proxySpecSchema>;
export type ProxyStatus = z.output<typeof proxyStatusSchema>;
export type Condition = z.output<typeof conditionSchema>;
export type ExternalAuthSpec = z.output<typeof externalAuthSpecSchema>;
export type ToolConfigSpec = z.output<typeof toolConfigSpecSchema>;
export type OidcConfigSpec = z.output<typeof oidcConfigSpecSchema>;
export type SecretKeyRef = z.output<typeof secretKeyRefSchema>;

/** One custom resource kind: names, spec schema, status schema, printer columns. */
export interface KindDefinition {
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly description: string;
  readonly spec: z.ZodType;
  readonly status: z.ZodType;
  readonly printerColumns: ReadonlyArray<{
    name: string;
    type: string;
    jsonPath: string;
    description?: string;
    priority?: number;
  }>;
  /** Upper bound of metadata.name (child object names append a suffix). */
  readonly maxNameLength?: number;
}

const age = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

export const KINDS: readonly KindDefinition[] = [
  {
    kind: 'MCPRemoteProxy',
    plural: 'mcpremoteproxies',
    singular: 'mcpremoteproxy',
    shortNames: ['mrp'],
    description: 'A Bastion proxy in front of one remote MCP server.',
    spec: proxySpecSchema,
    status: proxyStatusSchema,
    printerColumns: [
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Remote URL', type: 'string', jsonPath: '.spec.remoteUrl' },
      { name: 'URL', type: 'string', jsonPath: '.status.url' },
      { name: 'Ready', type: 'string', jsonPath: ".status.conditions[?(@.type=='Ready')].status" },
      age,
    ],
    maxNameLength: 57,
  },
  {
    kind: 'MCPExternalAuthConfig',
    plural: 'mcpexternalauthconfigs',
    singular: 'mcpexternalauthconfig',
    shortNames: ['mcpeac'],
    description: 'How a proxy obtains the credential it sends to the remote MCP server.',
    spec: externalAuthSpecSchema,
    status: configStatusSchema,
    printerColumns: [{ name: 'Type', type: 'string', jsonPath: '.spec.type' }, age],
  },
  {
    kind: 'MCPToolConfig',
    plural: 'mcptoolconfigs',
    singular: 'mcptoolconfig',
    shortNames: ['mcptc'],
    description: 'Tool allow-list and overrides shared by proxies.',
    spec: toolConfigSpecSchema,
    status: configStatusSchema,
    printerColumns: [age],
  },
  {
    kind: 'MCPOIDCConfig',
    plural: 'mcpoidcconfigs',
    singular: 'mcpoidcconfig',
    shortNames: ['mcpoidc'],
    description: 'Shared inbound OIDC settings (issuer, JWKS, introspection).',
    spec: oidcConfigSpecSchema,
    status: configStatusSchema,
    printerColumns: [{ name: 'Issuer', type: 'string', jsonPath: '.spec.issuer' }, age],
  },
];

export function kindDefinition(kind: string): KindDefinition {
  const def = KINDS.find((k) => k.kind === kind);
  if (!def) throw new TypeError(`unknown kind ${kind}`);
  return def;
}
