/**
 * The bridge to openid-client: builds a `Configuration` from discovered metadata and a client
 * identity, and classifies what its grant calls throw into coded errors (transient vs permanent).
 */
import {
  AuthorizationResponseError,
  allowInsecureRequests,
  type ClientAuth,
  ClientError,
  ClientSecretPost,
  Configuration,
  customFetch,
  None,
  ResponseBodyError,
  type TokenEndpointResponse,
  WWWAuthenticateChallengeError,
} from 'openid-client';
import type { AuthorizationServerMetadata } from './authorization-server.js';
import type { ClientIdentity, StoredTokens } from './credentials.js';
import { OAuthClientError, OAuthClientErrorCode } from './errors.js';
import { type FetchLike, networkError } from './internal/http.js';

export interface TransportOptions {
  fetch?: FetchLike | undefined;
  /** Timeout of each token-endpoint request, in ms. Default: 30000. */
  timeoutMs?: number | undefined;
  /** Client authentication to use instead of the one derived from the identity (`private_key_jwt`, none at all). */
  clientAuth?: ClientAuth | undefined;
}

/**
 * `client_secret_basic` with RFC 6749 §2.3.1's `application/x-www-form-urlencoded` encoding of the id
 * and secret (WHATWG: `*-._` and alphanumerics stay as they are). openid-client's own also
 * percent-encodes `-_.!~*'()`, which authorization servers that do not form-decode the Basic
 * credentials (the MCP conformance suite's among them) reject as a different client id.
 */
export function clientSecretBasic(secret: string): ClientAuth {
  const encode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);
  return (_as, client, _body, headers) => {
    const credentials = Buffer.from(`${encode(client.client_id)}:${encode(secret)}`).toString('base64');
    headers.set('authorization', `Basic ${credentials}`);
  };
}

export function buildConfiguration(
  as: AuthorizationServerMetadata,
  client: ClientIdentity,
  transport: TransportOptions,
): Configuration {
  const auth =
    transport.clientAuth ??
    (client.tokenEndpointAuthMethod === 'none' || !client.clientSecret
      ? None()
      : client.tokenEndpointAuthMethod === 'client_secret_post'
        ? ClientSecretPost(client.clientSecret)
        : clientSecretBasic(client.clientSecret));
  const config = new Configuration(
    as,
    client.clientId,
    {
      token_endpoint_auth_method:
        transport.clientAuth || client.clientSecret ? client.tokenEndpointAuthMethod : 'none',
    },
    auth,
  );
  const endpoints = [as.token_endpoint, as.authorization_endpoint, as.device_authorization_endpoint];
  if (endpoints.some((e) => typeof e === 'string' && e.startsWith('http:'))) {
    // Only reachable for loopback hosts or with allowInsecureHttp: assertSecureUrl ran during discovery.
    allowInsecureRequests(config);
  }
  config.timeout = Math.ceil((transport.timeoutMs ?? 30_000) / 1000);
  if (transport.fetch) {
    const f = transport.fetch;
    config[customFetch] = (url, options) => f(url, options as RequestInit);
  }
  return config;
}

/**
 * A failure below HTTP (refused, reset, DNS, TLS, timeout), looked up along the `cause` chain by
 * name and errno code: openid-client may wrap the fetch `TypeError`, and `instanceof` does not hold
 * across realms (e.g. undici's errors inside a VM context).
 */
function isNetworkFailure(err: unknown): boolean {
  let current: unknown = err;
  for (let i = 0; i < 6 && current && typeof current === 'object'; i++) {
    const e = current as { name?: unknown; message?: unknown; code?: unknown; cause?: unknown };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
    if (e.name === 'TypeError' && e.message === 'fetch failed') return true;
    if (typeof e.code === 'string' && /^(E(?!RR_)[A-Z]+(_[A-Z]+)*|UND_ERR_[A-Z_]+)$/.test(e.code))
      return true;
    current = e.cause;
  }
  return false;
}

/** Maps a failure of an openid-client grant call to a coded error. Never includes token values. */
export function classifyGrantError(err: unknown, what: string, signal?: AbortSignal): OAuthClientError {
  if (err instanceof OAuthClientError) return err;
  if (err instanceof ResponseBodyError) {
    const status = err.status;
    const code = err.error;
    if (code === 'invalid_grant') {
      return new OAuthClientError(
        OAuthClientErrorCode.InvalidGrant,
        `The ${what} was rejected with invalid_grant`,
        {
          cause: err,
          oauthError: code,
          status,
        },
      );
    }
    if (code === 'temporarily_unavailable' || status >= 500 || status === 429) {
      return new OAuthClientError(
        OAuthClientErrorCode.AsUnavailable,
        `The ${what} failed transiently (HTTP ${status}, ${code})`,
        { cause: err, oauthError: code, status, retryable: true },
      );
    }
    return new OAuthClientError(
      OAuthClientErrorCode.TokenRequest,
      `The ${what} was rejected with ${code} (HTTP ${status})`,
      {
        cause: err,
        oauthError: code,
        status,
      },
    );
  }
  if (err instanceof WWWAuthenticateChallengeError) {
    // 401 with a challenge from the token endpoint: client authentication failed (invalid_client).
    const code =
      err.cause.find((c) => typeof c.parameters.error === 'string')?.parameters.error ?? 'invalid_client';
    return new OAuthClientError(
      OAuthClientErrorCode.TokenRequest,
      `The ${what} was rejected with ${code} (HTTP ${err.status})`,
      {
        cause: err,
        oauthError: code,
        status: err.status,
      },
    );
  }
  if (err instanceof AuthorizationResponseError) {
    return new OAuthClientError(
      OAuthClientErrorCode.AuthorizationDenied,
      `The authorization server answered ${err.error}${err.error_description ? `: ${err.error_description}` : ''}`,
      { cause: err, oauthError: err.error },
    );
  }
  if (isNetworkFailure(err)) {
    const net = networkError(err, what, { signal });
    if (net.code === OAuthClientErrorCode.Aborted) return net;
    return new OAuthClientError(OAuthClientErrorCode.AsUnavailable, net.message, {
      cause: err,
      retryable: true,
    });
  }
  if (err instanceof ClientError) {
    const response = (err as { cause?: { status?: unknown } }).cause;
    const status = typeof response?.status === 'number' ? response.status : undefined;
    if (err.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' || err.code === 'OAUTH_RESPONSE_IS_NOT_JSON') {
      // A WAF page, a CDN error, a 5xx without an OAuth error body: not an authorization verdict.
      return new OAuthClientError(
        OAuthClientErrorCode.AsUnavailable,
        `The ${what} got an unexpected answer${status ? ` (HTTP ${status})` : ''}`,
        { cause: err, status, retryable: true },
      );
    }
    return new OAuthClientError(OAuthClientErrorCode.TokenRequest, `The ${what} failed: ${err.message}`, {
      cause: err,
    });
  }
  return new OAuthClientError(OAuthClientErrorCode.TokenRequest, `The ${what} failed`, { cause: err });
}

/** Token response → stored tokens; a response without `refresh_token` keeps `previousRefreshToken`. */
export function toStoredTokens(
  response: TokenEndpointResponse,
  previousRefreshToken?: string | undefined,
  now = Date.now(),
): StoredTokens {
  const expiresIn =
    typeof response.expires_in === 'number' && response.expires_in > 0 ? response.expires_in : undefined;
  return {
    accessToken: response.access_token,
    tokenType: typeof response.token_type === 'string' ? response.token_type : 'bearer',
    expiresAt: expiresIn === undefined ? undefined : now + expiresIn * 1000,
    refreshToken: response.refresh_token ?? previousRefreshToken,
  };
}
