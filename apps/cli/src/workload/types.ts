import type { RunConfigInput } from '@bastion-mcp/runner';

export type Transport = 'streamable-http' | 'sse';

/** How the proxy authenticates to the remote. */
export type UpstreamAuthSpec =
  | { readonly kind: 'none' }
  | {
      /** A static token read at every start from a file or an environment variable (never stored). */
      readonly kind: 'bearer';
      readonly tokenFile?: string | undefined;
      readonly tokenEnv?: string | undefined;
    }
  | ({ readonly kind: 'oauth' } & OAuthSpec);

export type DPoPFlag = 'auto' | 'always' | 'never';

/** OAuth client settings of a workload (no secrets: a client secret lives in the token store or a file). */
export interface OAuthSpec {
  /** `jwt_bearer`: RFC 7523 workload identity; `id_jag`: enterprise-managed authorization (SEP-990). */
  readonly grant: 'authorization_code' | 'device_code' | 'client_credentials' | 'jwt_bearer' | 'id_jag';
  readonly clientId?: string | undefined;
  readonly clientSecretFile?: string | undefined;
  /** A `--client-secret` value was given and saved in the encrypted token store. */
  readonly clientSecretStored?: boolean | undefined;
  readonly scopes?: readonly string[] | undefined;
  readonly resourceParam: boolean;
  /** DPoP (RFC 9449) for logins: `auto` when absent (both the AS and the remote support it), `always`, `never`. */
  readonly dpop?: DPoPFlag | undefined;
  readonly scopeParamName?: string | undefined;
  readonly authorizeParams?: Readonly<Record<string, string>> | undefined;
  readonly callbackPort?: number | undefined;
  readonly clientMetadataUrl?: string | undefined;
  readonly allowIssuerMismatch?: boolean | undefined;
  /** `private_key_jwt`: the client's private key file (read at every token request), algorithm and kid. */
  readonly clientAssertionKeyFile?: string | undefined;
  readonly clientAssertionAlg?: string | undefined;
  readonly clientAssertionKid?: string | undefined;
  /** `jwt_bearer`: the workload JWT file (re-read at every token request). */
  readonly jwtBearerAssertionFile?: string | undefined;
  /** `id_jag`: the enterprise IdP (its client secret is read from the file at login and kept in the token store). */
  readonly idp?: IdpSpec | undefined;
}

/** The enterprise IdP of an `id_jag` workload. */
export interface IdpSpec {
  readonly issuer?: string | undefined;
  readonly tokenEndpoint?: string | undefined;
  readonly clientId: string;
  readonly clientSecretFile?: string | undefined;
  /** The user's ID token from the IdP sign-in, re-read at every token exchange. */
  readonly idTokenFile: string;
}

/** What `bastion run` was asked to do; stored in `workload.json` and reused by `restart`. */
export interface WorkloadDefinition {
  readonly version: 1;
  readonly name: string;
  readonly remoteUrl: string;
  readonly transport: Transport;
  /** Local port; chosen once at the first run so the local URL stays stable across restarts. */
  readonly port: number;
  readonly auth: UpstreamAuthSpec;
  /** RunConfig sections built from the middleware flags (`--oidc-*`, `--authz-policy`, `--audit`, `--tools`, …). */
  readonly middleware: Partial<RunConfigInput>;
  /** Extra allowed `Origin` values of the local endpoint. */
  readonly allowedOrigins?: readonly string[] | undefined;
  readonly logLevel: string;
  readonly createdAt: string;
}

export const STATUSES = [
  'starting',
  'running',
  'auth_retrying',
  'unauthenticated',
  'stopped',
  'error',
] as const;
export type WorkloadStatus = (typeof STATUSES)[number];

/** Statuses of a workload whose process should be alive. */
export const ACTIVE_STATUSES: ReadonlySet<WorkloadStatus> = new Set([
  'starting',
  'running',
  'auth_retrying',
  'unauthenticated',
]);

/** Runtime state written by the proxy process (and by `stop`, and by repair of stale state). */
export interface WorkloadState {
  readonly status: WorkloadStatus;
  readonly reason?: string | undefined;
  /** Scopes the remote required (403 `insufficient_scope`); `bastion login` asks for them too. */
  readonly requiredScopes?: readonly string[] | undefined;
  /** A 401 challenge of a remote started without OAuth; `bastion login` discovers from it. */
  readonly authChallenge?: string | undefined;
  readonly pid?: number | undefined;
  readonly port?: number | undefined;
  readonly url?: string | undefined;
  readonly startedAt?: string | undefined;
  readonly updatedAt: string;
}

/** A workload as `list`/`status` show it. */
export interface WorkloadView {
  readonly name: string;
  readonly status: WorkloadStatus;
  readonly reason: string | undefined;
  readonly url: string;
  readonly remoteUrl: string;
  readonly transport: Transport;
  readonly port: number;
  readonly pid: number | undefined;
  readonly auth: UpstreamAuthSpec['kind'];
  readonly startedAt: string | undefined;
  readonly createdAt: string;
  readonly logFile: string;
}
