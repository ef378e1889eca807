/**
 * Errors of the auth package. Every class extends proxy-core's `BastionError` and carries a stable
 * `ERR_BASTION_AUTH_*` code. None of them ever contains a token, a client secret or a raw IdP answer:
 * their `publicDescription` is a fixed, safe sentence chosen by code, fit for `error_description`.
 */
import { BastionError } from '@bastion-mcp/proxy-core';

export const AuthErrorCode = {
  /** No `Authorization: Bearer` credential was sent (RFC 6750 §3.1: no `error` attribute). */
  MissingToken: 'ERR_BASTION_AUTH_MISSING_TOKEN',
  /** The `Authorization` header or the token is syntactically malformed. */
  MalformedToken: 'ERR_BASTION_AUTH_MALFORMED_TOKEN',
  /** The token is larger than `maxTokenBytes`. */
  TokenTooLarge: 'ERR_BASTION_AUTH_TOKEN_TOO_LARGE',
  TokenExpired: 'ERR_BASTION_AUTH_TOKEN_EXPIRED',
  TokenNotYetValid: 'ERR_BASTION_AUTH_TOKEN_NOT_YET_VALID',
  IssuerMismatch: 'ERR_BASTION_AUTH_ISSUER_MISMATCH',
  AudienceMismatch: 'ERR_BASTION_AUTH_AUDIENCE_MISMATCH',
  /** A required claim (`exp`, …) is absent or has the wrong type. */
  InvalidClaim: 'ERR_BASTION_AUTH_INVALID_CLAIM',
  /** The `alg` is not in the allow-list (`none`, HMAC, …). */
  AlgorithmNotAllowed: 'ERR_BASTION_AUTH_ALG_NOT_ALLOWED',
  /** No key of the JWKS matches the token's `kid`/`alg`, even after a refetch. */
  UnknownSigningKey: 'ERR_BASTION_AUTH_UNKNOWN_SIGNING_KEY',
  SignatureInvalid: 'ERR_BASTION_AUTH_SIGNATURE_INVALID',
  /** The `typ` header is not the required one (`at+jwt`). */
  TypeMismatch: 'ERR_BASTION_AUTH_TYP_MISMATCH',
  /** The JWS carries a `crit` header parameter this server does not understand. */
  UnsupportedCritical: 'ERR_BASTION_AUTH_UNSUPPORTED_CRIT',
  /** Introspection answered `active: false` (or no `active: true`). */
  TokenInactive: 'ERR_BASTION_AUTH_TOKEN_INACTIVE',
  /** The configured user-id claim is missing or not a non-empty string. */
  MissingUserId: 'ERR_BASTION_AUTH_MISSING_USER_ID',
  /** An opaque token arrived and no introspection endpoint is configured (or a JWT and JWT is off). */
  UnsupportedToken: 'ERR_BASTION_AUTH_UNSUPPORTED_TOKEN',
  /** The token is valid but lacks a required scope (403). */
  InsufficientScope: 'ERR_BASTION_AUTH_INSUFFICIENT_SCOPE',
  /** The JWKS could not be obtained and no cached key can decide (503, fail closed). */
  JwksUnavailable: 'ERR_BASTION_AUTH_JWKS_UNAVAILABLE',
  /** OIDC / RFC 8414 discovery of the issuer failed (503, fail closed). */
  DiscoveryFailed: 'ERR_BASTION_AUTH_DISCOVERY_FAILED',
  /** The introspection endpoint is unreachable or answered with an error (503, fail closed). */
  IntrospectionUnavailable: 'ERR_BASTION_AUTH_INTROSPECTION_UNAVAILABLE',
  /** An identity-provider endpoint answered with something that is not the expected JSON document. */
  IdpResponseInvalid: 'ERR_BASTION_AUTH_IDP_RESPONSE_INVALID',
  /** An identity-provider call exceeded its timeout. */
  IdpTimeout: 'ERR_BASTION_AUTH_IDP_TIMEOUT',
} as const;
export type AuthErrorCode = (typeof AuthErrorCode)[keyof typeof AuthErrorCode];

/** Base class of every auth error. */
export class AuthError extends BastionError {
  static override readonly code: string = 'ERR_BASTION_AUTH';
  /** A fixed sentence that is safe to send to the client (`error_description`). */
  readonly publicDescription: string;

  constructor(
    code: AuthErrorCode,
    publicDescription: string,
    options?: { cause?: unknown; message?: string },
  ) {
    super(options?.message ?? publicDescription, { code, cause: options?.cause });
    this.publicDescription = publicDescription;
  }
}

/** The client's credential was refused: answered with 401 `invalid_token` (or no error when missing). */
export class TokenRejectedError extends AuthError {
  /** The claim at fault, when one is (`exp`, `iss`, `aud`, the user-id claim …). */
  readonly claim?: string | undefined;

  constructor(
    code: AuthErrorCode,
    publicDescription: string,
    options?: { cause?: unknown; claim?: string | undefined; message?: string },
  ) {
    super(code, publicDescription, options);
    this.claim = options?.claim;
  }
}

/** The token is valid but does not carry the required scopes: answered with 403 `insufficient_scope`. */
export class InsufficientScopeError extends AuthError {
  /** The scopes that were required (all of them, space-joined in the challenge). */
  readonly requiredScopes: readonly string[];

  constructor(requiredScopes: readonly string[]) {
    super(AuthErrorCode.InsufficientScope, 'The access token does not grant the required scope');
    this.requiredScopes = [...requiredScopes];
  }
}

/**
 * The server cannot decide whether the token is valid (IdP unreachable, JWKS never fetched, bad IdP
 * answer). Answered with 503 and `Retry-After`; the request is never accepted.
 */
export class AuthUnavailableError extends AuthError {
  /** Suggested `Retry-After`, in seconds. */
  readonly retryAfterSeconds: number;

  constructor(
    code: AuthErrorCode,
    publicDescription: string,
    options?: { cause?: unknown; retryAfterSeconds?: number; message?: string },
  ) {
    super(code, publicDescription, options);
    this.retryAfterSeconds = options?.retryAfterSeconds ?? 5;
  }
}
