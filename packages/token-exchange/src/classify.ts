/**
 * Map whatever openid-client threw for an STS call to one of the typed token-exchange errors.
 * Only codes and statuses are kept: openid-client's errors can carry the STS response body (which may
 * hold a token) in `cause`, so they are never attached to ours.
 */
import * as oidc from 'openid-client';
import {
  type ChallengeOptions,
  type StsFailureDetail,
  TokenExchangeBadResponseError,
  type TokenExchangeError,
  TokenExchangeRefusedError,
  TokenExchangeRejectedError,
  TokenExchangeUnavailableError,
} from './errors.js';

/** STS error codes that mean "this subject token is not acceptable" (RFC 6749 §5.2, RFC 8693 §2.2.2). */
const SUBJECT_REJECTED = new Set(['invalid_grant', 'invalid_request']);
/** Cap on a `Retry-After` taken from the STS. */
const MAX_RETRY_AFTER_SECONDS = 300;

function safeCode(value: unknown): string | undefined {
  return typeof value === 'string' && /^[\x21-\x7e]{1,64}$/.test(value) && !value.includes('"')
    ? value
    : undefined;
}

function retryAfterOf(response: unknown, fallback: number): number {
  const header = response instanceof Response ? response.headers.get('retry-after') : null;
  if (header !== null && /^\d{1,9}$/.test(header.trim())) {
    return Math.min(Number.parseInt(header.trim(), 10), MAX_RETRY_AFTER_SECONDS);
  }
  return fallback;
}

export interface ClassifyContext {
  readonly retryAfterSeconds: number;
  readonly challenge: ChallengeOptions | undefined;
}

export function classifyStsError(err: unknown, ctx: ClassifyContext): TokenExchangeError {
  if (err instanceof oidc.ResponseBodyError) {
    const detail: StsFailureDetail = {
      stsStatus: err.status,
      stsError: safeCode(err.error),
      clientCode: err.code,
    };
    if (err.status === 429) {
      return new TokenExchangeUnavailableError(
        detail,
        retryAfterOf(err.response, ctx.retryAfterSeconds),
        'the STS is rate limiting',
      );
    }
    if (SUBJECT_REJECTED.has(err.error)) return new TokenExchangeRejectedError(detail, ctx.challenge);
    return new TokenExchangeRefusedError(detail);
  }
  if (err instanceof oidc.WWWAuthenticateChallengeError) {
    // The STS challenged the proxy's own client authentication: a configuration problem.
    const first = err.cause[0];
    return new TokenExchangeRefusedError({
      stsStatus: err.status,
      stsError: safeCode(first?.parameters.error),
      clientCode: err.code,
    });
  }
  if (err instanceof oidc.ClientError) {
    const code = safeCode(err.code);
    switch (err.code) {
      case 'OAUTH_TIMEOUT':
      case 'OAUTH_ABORT':
        return new TokenExchangeUnavailableError(
          { clientCode: code },
          ctx.retryAfterSeconds,
          'the STS timed out',
        );
      case 'OAUTH_RESPONSE_IS_NOT_CONFORM':
      case 'OAUTH_RESPONSE_IS_NOT_JSON': {
        // Unexpected status, or a body that is not JSON (an error page): decide by the status.
        const response = err.cause instanceof Response ? err.cause : undefined;
        const status = response?.status;
        const detail: StsFailureDetail = { stsStatus: status, clientCode: code };
        if (status !== undefined && (status >= 500 || status === 429)) {
          return new TokenExchangeUnavailableError(
            detail,
            retryAfterOf(response, ctx.retryAfterSeconds),
            `the STS answered HTTP ${status}`,
          );
        }
        if (status !== undefined && status >= 200 && status < 300) {
          return new TokenExchangeBadResponseError(detail, 'not JSON');
        }
        return new TokenExchangeRefusedError(detail);
      }
      case 'OAUTH_PARSE_ERROR':
        return new TokenExchangeBadResponseError({ clientCode: code }, 'unparseable body');
      case 'OAUTH_INVALID_RESPONSE':
        return new TokenExchangeBadResponseError({ clientCode: code }, 'missing or malformed fields');
      case 'OAUTH_UNSUPPORTED_OPERATION':
        return new TokenExchangeBadResponseError({ clientCode: code }, 'unsupported token_type');
      default:
        // openid-client wraps unknown failures (network errors from a custom fetch, ...) as ClientError.
        return new TokenExchangeUnavailableError(
          { clientCode: code },
          ctx.retryAfterSeconds,
          'the STS call failed',
        );
    }
  }
  if (err instanceof TypeError && (err as { code?: unknown }).code === undefined) {
    // fetch() rejects with a plain TypeError ("fetch failed") when the STS cannot be reached.
    return new TokenExchangeUnavailableError({}, ctx.retryAfterSeconds, 'the STS is unreachable');
  }
  const code = safeCode((err as { code?: unknown } | null)?.code);
  return new TokenExchangeUnavailableError(
    { clientCode: code },
    ctx.retryAfterSeconds,
    'the STS call failed',
  );
}
