/**
 * Errors of the OAuth client (`@bastion-mcp/auth/client`). Every error is an `OAuthClientError`
 * (a proxy-core `BastionError`) with a stable `ERR_BASTION_OAUTH_*` code. Messages name URLs, issuers
 * and OAuth error codes, never an access token, a refresh token, a client secret, a PKCE verifier or
 * an authorization code.
 */
import { BastionError } from '@bastion-mcp/proxy-core';

export const OAuthClientErrorCode = {
  /** Protected-resource or authorization-server metadata could not be found or is invalid. */
  Discovery: 'ERR_BASTION_OAUTH_DISCOVERY',
  /** A network failure (DNS, refused connection, TLS, reset) talking to the remote or the AS. */
  Network: 'ERR_BASTION_OAUTH_NETWORK',
  /** The PRM `resource` does not match the MCP server URL (RFC 9728 §3.3). */
  ResourceMismatch: 'ERR_BASTION_OAUTH_RESOURCE_MISMATCH',
  /** The AS metadata `issuer` differs from the issuer it was discovered for (RFC 8414 §3.3). */
  IssuerMismatch: 'ERR_BASTION_OAUTH_ISSUER_MISMATCH',
  /** The authorization response `iss` is missing or wrong (RFC 9207, mix-up defence). */
  IssMismatch: 'ERR_BASTION_OAUTH_ISS_MISMATCH',
  /** The AS does not list `S256` in `code_challenge_methods_supported`. */
  NoS256: 'ERR_BASTION_OAUTH_NO_S256',
  /** A URL that must be HTTPS is plain HTTP on a non-loopback host. */
  InsecureUrl: 'ERR_BASTION_OAUTH_INSECURE_URL',
  /** The 401 challenge uses a scheme this client cannot satisfy (e.g. only `Basic`) and no PRM exists. */
  UnsupportedChallenge: 'ERR_BASTION_OAUTH_UNSUPPORTED_CHALLENGE',
  /** No client identity: no client id given, no CIMD URL usable and the AS has no registration endpoint. */
  NoClient: 'ERR_BASTION_OAUTH_NO_CLIENT',
  /** RFC 7591 dynamic client registration failed. */
  Registration: 'ERR_BASTION_OAUTH_REGISTRATION',
  /** The AS does not offer what a grant needs (no device authorization endpoint, …). */
  UnsupportedGrant: 'ERR_BASTION_OAUTH_UNSUPPORTED_GRANT',
  /** The `state` of the authorization response does not match the request (CSRF defence). */
  StateMismatch: 'ERR_BASTION_OAUTH_STATE_MISMATCH',
  /** The authorization response carried `error=` (access_denied, invalid_scope, …). */
  AuthorizationDenied: 'ERR_BASTION_OAUTH_AUTHORIZATION_DENIED',
  /** The loopback callback port is already in use. */
  CallbackPortInUse: 'ERR_BASTION_OAUTH_CALLBACK_PORT_IN_USE',
  /** The user did not finish the login (browser or device code) in time. */
  Timeout: 'ERR_BASTION_OAUTH_TIMEOUT',
  /** The caller aborted the operation through its `AbortSignal`. */
  Aborted: 'ERR_BASTION_OAUTH_ABORTED',
  /** The refresh token (or authorization code / device code) was rejected: a new login is needed. */
  InvalidGrant: 'ERR_BASTION_OAUTH_INVALID_GRANT',
  /** The token endpoint answered another OAuth error (invalid_client, unauthorized_client, …). */
  TokenRequest: 'ERR_BASTION_OAUTH_TOKEN_REQUEST',
  /** The AS is unreachable or answered 5xx/429/non-OAuth content: transient, retried with backoff. */
  AsUnavailable: 'ERR_BASTION_OAUTH_AS_UNAVAILABLE',
  /** No usable token for the workload (never logged in, logged out, or the grant was revoked). */
  Unauthenticated: 'ERR_BASTION_OAUTH_UNAUTHENTICATED',
  /** The cross-process lock could not be acquired in time. */
  LockTimeout: 'ERR_BASTION_OAUTH_LOCK_TIMEOUT',
  /** The token store is unreadable (corrupt entry, wrong key, permissions). */
  Store: 'ERR_BASTION_OAUTH_STORE',
  /** A static bearer token source is unusable (empty file, unreadable). */
  StaticToken: 'ERR_BASTION_OAUTH_STATIC_TOKEN',
  /** The `private_key_jwt` key file is missing, unreadable, not a private key, or does not fit the algorithm. */
  ClientAssertionKey: 'ERR_BASTION_OAUTH_CLIENT_ASSERTION_KEY',
  /** A JWT-bearer assertion file (workload token, enterprise ID token) is missing, unreadable or not a JWT. */
  Assertion: 'ERR_BASTION_OAUTH_ASSERTION',
} as const;
export type OAuthClientErrorCode = (typeof OAuthClientErrorCode)[keyof typeof OAuthClientErrorCode];

export interface OAuthClientErrorOptions {
  cause?: unknown;
  /** The OAuth `error` code the AS answered (`invalid_grant`, `invalid_target`, …), when any. */
  oauthError?: string | undefined;
  /** HTTP status of the answer that caused the error, when any. */
  status?: number | undefined;
  /** Whether retrying later can succeed without user action. Default: false. */
  retryable?: boolean | undefined;
}

/** Base class of every error of the OAuth client. */
export class OAuthClientError extends BastionError {
  static override readonly code: string = 'ERR_BASTION_OAUTH';
  readonly oauthError: string | undefined;
  readonly status: number | undefined;
  readonly retryable: boolean;

  constructor(code: OAuthClientErrorCode, message: string, options?: OAuthClientErrorOptions) {
    super(message, { code, cause: options?.cause });
    this.oauthError = options?.oauthError;
    this.status = options?.status;
    this.retryable = options?.retryable ?? false;
  }
}

/**
 * The stored grant is no longer usable and the user must log in again. `message` tells the user the
 * exact command (`bastion login <name>`).
 */
export class ReauthenticationRequiredError extends OAuthClientError {
  readonly workload: string;

  constructor(
    workload: string,
    code: OAuthClientErrorCode,
    reason: string,
    options?: OAuthClientErrorOptions,
  ) {
    super(code, `${reason}; run \`bastion login ${workload}\` to sign in again`, options);
    this.workload = workload;
  }
}

/** True when `value` is an `OAuthClientError` with the given code. */
export function isOAuthClientError(value: unknown, code?: OAuthClientErrorCode): value is OAuthClientError {
  return value instanceof OAuthClientError && (code === undefined || value.code === code);
}
