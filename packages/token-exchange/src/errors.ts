/**
 * Errors of the token-exchange middleware. All of them are `ProxyHttpError`s, so proxy-core's edge
 * mapper turns them into the wire answer; none of them ever carries a token, a secret, or the raw
 * error text of the STS (only its OAuth `error` code, when it is a plain ASCII code).
 */
import { JsonRpcErrorCode, ProxyHttpError } from '@bastion-mcp/proxy-core';

export const TokenExchangeErrorCode = {
  /** The request reached token exchange without an inbound (subject) token. */
  NoSubjectToken: 'ERR_BASTION_TOKEN_EXCHANGE_NO_SUBJECT_TOKEN',
  /** The STS rejected the subject token (`invalid_grant` / `invalid_request`). */
  Rejected: 'ERR_BASTION_TOKEN_EXCHANGE_REJECTED',
  /** The STS refused the proxy's own request (`invalid_client`, `invalid_target`, `invalid_scope`, ...). */
  Refused: 'ERR_BASTION_TOKEN_EXCHANGE_REFUSED',
  /** The STS could not be reached, timed out, answered 5xx or 429, or discovery failed. */
  Unavailable: 'ERR_BASTION_TOKEN_EXCHANGE_UNAVAILABLE',
  /** The STS answered 2xx with a body that is not a usable token response. */
  BadResponse: 'ERR_BASTION_TOKEN_EXCHANGE_BAD_RESPONSE',
  /** The configuration cannot work (e.g. the private key cannot be imported). */
  Config: 'ERR_BASTION_TOKEN_EXCHANGE_CONFIG',
} as const;
export type TokenExchangeErrorCode = (typeof TokenExchangeErrorCode)[keyof typeof TokenExchangeErrorCode];

/** JSON-RPC code used for the 401 answers (the body is an OAuth error body anyway). */
const RPC_UNAUTHORIZED = -32001;

/** Facts about the STS answer that are safe to log (never a token, never free text from the STS). */
export interface StsFailureDetail {
  /** HTTP status of the STS answer, when one arrived. */
  readonly stsStatus?: number | undefined;
  /** OAuth `error` code of the STS answer (`invalid_grant`, ...), when it sent one. */
  readonly stsError?: string | undefined;
  /** openid-client / oauth4webapi error code (`OAUTH_INVALID_RESPONSE`, ...), when there was one. */
  readonly clientCode?: string | undefined;
}

/** Challenge parameters for the 401 `WWW-Authenticate` header (mirror the auth middleware's). */
export interface ChallengeOptions {
  /** `realm` parameter (usually the inbound issuer). */
  readonly realm?: string | undefined;
  /** RFC 9728 `resource_metadata` URL, so clients can re-authenticate. */
  readonly resourceMetadataUrl?: string | undefined;
}

function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\r\n]/g, ' ')}"`;
}

/** Build `Bearer realm=…, resource_metadata=…, error="invalid_token", error_description=…`. */
export function bearerChallenge(challenge: ChallengeOptions | undefined, description: string): string {
  const params: string[] = [];
  if (challenge?.realm) params.push(`realm=${quote(challenge.realm)}`);
  if (challenge?.resourceMetadataUrl)
    params.push(`resource_metadata=${quote(challenge.resourceMetadataUrl)}`);
  params.push('error="invalid_token"', `error_description=${quote(description)}`);
  return `Bearer ${params.join(', ')}`;
}

/** Base class of every token-exchange failure (`instanceof` works across package copies). */
export class TokenExchangeError extends ProxyHttpError {
  static override readonly code: string = 'ERR_BASTION_TOKEN_EXCHANGE';
  readonly stsStatus: number | undefined;
  readonly stsError: string | undefined;
  readonly clientCode: string | undefined;

  constructor(
    init: ConstructorParameters<typeof ProxyHttpError>[0] & { detail?: StsFailureDetail | undefined },
  ) {
    super(init);
    this.stsStatus = init.detail?.stsStatus;
    this.stsError = init.detail?.stsError;
    this.clientCode = init.detail?.clientCode;
  }
}

function describe(detail: StsFailureDetail | undefined): string {
  const parts: string[] = [];
  if (detail?.stsError) parts.push(detail.stsError);
  if (detail?.stsStatus !== undefined) parts.push(`HTTP ${detail.stsStatus}`);
  if (detail?.clientCode) parts.push(detail.clientCode);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

/** 401: the request carried no subject token (auth is missing from the chain or anonymous). */
export class NoSubjectTokenError extends TokenExchangeError {
  static override readonly code = TokenExchangeErrorCode.NoSubjectToken;
  constructor(challenge?: ChallengeOptions) {
    const description = 'a bearer token is required';
    super({
      status: 401,
      rpcCode: RPC_UNAUTHORIZED,
      publicMessage: 'Unauthorized',
      code: TokenExchangeErrorCode.NoSubjectToken,
      headers: { 'www-authenticate': bearerChallenge(challenge, description) },
      oauthError: { error: 'invalid_token', error_description: description },
      message: 'token exchange: the request has no inbound token to exchange',
    });
  }
}

/** 401 `invalid_token`: the STS rejected the subject token. */
export class TokenExchangeRejectedError extends TokenExchangeError {
  static override readonly code = TokenExchangeErrorCode.Rejected;
  constructor(detail: StsFailureDetail, challenge?: ChallengeOptions) {
    const description = 'token exchange failed';
    super({
      status: 401,
      rpcCode: RPC_UNAUTHORIZED,
      publicMessage: 'Unauthorized',
      code: TokenExchangeErrorCode.Rejected,
      headers: { 'www-authenticate': bearerChallenge(challenge, description) },
      oauthError: { error: 'invalid_token', error_description: description },
      message: `token exchange: the STS rejected the subject token${describe(detail)}`,
      detail,
    });
  }
}

/** 502: the STS refused the proxy's request for a reason the end user cannot fix (configuration). */
export class TokenExchangeRefusedError extends TokenExchangeError {
  static override readonly code = TokenExchangeErrorCode.Refused;
  constructor(detail: StsFailureDetail) {
    super({
      status: 502,
      rpcCode: JsonRpcErrorCode.InternalError,
      publicMessage: 'Upstream credential unavailable',
      code: TokenExchangeErrorCode.Refused,
      message: `token exchange: the STS refused the request${describe(detail)}`,
      detail,
    });
  }
}

/** 503 + `Retry-After`: the STS is unreachable, slow, overloaded or failing. */
export class TokenExchangeUnavailableError extends TokenExchangeError {
  static override readonly code = TokenExchangeErrorCode.Unavailable;
  readonly retryAfterSeconds: number;
  constructor(detail: StsFailureDetail, retryAfterSeconds: number, reason = 'the STS is unavailable') {
    super({
      status: 503,
      rpcCode: JsonRpcErrorCode.InternalError,
      publicMessage: 'Upstream credential temporarily unavailable',
      code: TokenExchangeErrorCode.Unavailable,
      headers: { 'retry-after': String(retryAfterSeconds) },
      message: `token exchange: ${reason}${describe(detail)}`,
      detail,
    });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** 502: the STS answered with something that is not a usable token response. */
export class TokenExchangeBadResponseError extends TokenExchangeError {
  static override readonly code = TokenExchangeErrorCode.BadResponse;
  constructor(detail: StsFailureDetail, reason: string) {
    super({
      status: 502,
      rpcCode: JsonRpcErrorCode.InternalError,
      publicMessage: 'Upstream credential unavailable',
      code: TokenExchangeErrorCode.BadResponse,
      message: `token exchange: invalid STS response: ${reason}${describe(detail)}`,
      detail,
    });
  }
}

/** 500: the middleware is misconfigured in a way only detectable at first use (e.g. an unusable key). */
export class TokenExchangeConfigError extends TokenExchangeError {
  static override readonly code = TokenExchangeErrorCode.Config;
  constructor(reason: string, cause?: unknown) {
    super({
      status: 500,
      rpcCode: JsonRpcErrorCode.InternalError,
      publicMessage: 'Upstream credential unavailable',
      code: TokenExchangeErrorCode.Config,
      message: `token exchange: misconfigured: ${reason}`,
      cause,
    });
  }
}
