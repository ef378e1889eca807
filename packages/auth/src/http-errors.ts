/**
 * Auth errors → proxy-core `ProxyHttpError` (the edge mapper writes the wire answer):
 * - missing credential → 401, challenge WITHOUT `error` (RFC 6750 §3.1), body `invalid_token`;
 * - any other refused token → 401, `error="invalid_token"` + `error_description`;
 * - insufficient scope → 403, `error="insufficient_scope"`, `scope` = the required scopes;
 * - IdP unavailable → 503 + `Retry-After`, body `temporarily_unavailable` (never an acceptance).
 * Bodies are `{error, error_description}`; descriptions are fixed sentences, never the token.
 */
import { ProxyHttpError } from '@bastion-mcp/proxy-core';
import { formatBearerChallenge } from './challenge.js';
import { AuthErrorCode, AuthUnavailableError, InsufficientScopeError, TokenRejectedError } from './errors.js';

/** JSON-RPC code carried by auth errors (unused on the wire: the OAuth body wins). */
const RPC_UNAUTHORIZED = -32001;

export interface ChallengeContext {
  readonly realm?: string | undefined;
  readonly resourceMetadata?: string | undefined;
  /** Advertised scopes (`scope=` on 401). */
  readonly scope?: string | undefined;
}

/** Maps an auth error to the HTTP error to throw; other errors are returned unchanged. */
export function toProxyHttpError(err: unknown, context: ChallengeContext): unknown {
  if (err instanceof InsufficientScopeError) {
    const description = err.publicDescription;
    return new ProxyHttpError({
      status: 403,
      rpcCode: RPC_UNAUTHORIZED,
      code: err.code,
      publicMessage: description,
      cause: err,
      headers: {
        'www-authenticate': formatBearerChallenge({
          ...context,
          scope: err.requiredScopes.join(' '),
          error: 'insufficient_scope',
          errorDescription: description,
        }),
      },
      oauthError: { error: 'insufficient_scope', error_description: description },
    });
  }
  if (err instanceof TokenRejectedError) {
    const missing = err.code === AuthErrorCode.MissingToken;
    const description = err.publicDescription;
    return new ProxyHttpError({
      status: 401,
      rpcCode: RPC_UNAUTHORIZED,
      code: err.code,
      publicMessage: description,
      cause: err,
      headers: {
        'www-authenticate': formatBearerChallenge(
          missing ? context : { ...context, error: 'invalid_token', errorDescription: description },
        ),
      },
      oauthError: { error: 'invalid_token', error_description: description },
    });
  }
  if (err instanceof AuthUnavailableError) {
    return new ProxyHttpError({
      status: 503,
      rpcCode: RPC_UNAUTHORIZED,
      code: err.code,
      publicMessage: err.publicDescription,
      cause: err,
      headers: { 'retry-after': String(err.retryAfterSeconds) },
      oauthError: { error: 'temporarily_unavailable', error_description: err.publicDescription },
    });
  }
  return err;
}
