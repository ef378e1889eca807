/**
 * RFC 7523 §2.1 JWT authorization grant for workload identity federation (SEP-1933): the workload
 * exchanges a JWT its platform issued (a Kubernetes projected service-account token, a cloud OIDC
 * token) for an access token — `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`,
 * `assertion=<jwt>`. The assertion file is re-read at every token request (platforms rotate it),
 * and a rejection (`invalid_grant`, `invalid_scope`, `unauthorized_client`) is surfaced as is:
 * never retried, never answered by switching to another grant.
 */
import { readFile } from 'node:fs/promises';
import {
  type Configuration,
  type DPoPOptions,
  genericGrantRequest,
  type TokenEndpointResponse,
} from 'openid-client';
import {
  configurationFor,
  type StaticClientOptions,
  staticClientIdentity,
  validateStaticClient,
} from './client-auth.js';
import { grantKey } from './credentials.js';
import { prepareLoginDPoP } from './dpop.js';
import { OAuthClientError, OAuthClientErrorCode } from './errors.js';
import { type LoginOptions, type LoginResult, persistLogin, planLogin, scopeParams } from './login-common.js';
import { classifyGrantError, toStoredTokens } from './openid.js';

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

const JWT_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]*){2}$|^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]*){4}$/;

/**
 * Reads a JWT from a file (surrounding whitespace trimmed): a workload token or an ID token.
 *
 * @param what what the file holds, for messages ("workload assertion", "ID token").
 * @throws OAuthClientError `ERR_BASTION_OAUTH_ASSERTION` (message names the file, never its content).
 */
export async function readAssertionFile(path: string, what: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new OAuthClientError(
      OAuthClientErrorCode.Assertion,
      `Cannot read the ${what} file ${path} (${(cause as NodeJS.ErrnoException).code ?? 'error'})`,
      { cause },
    );
  }
  const value = text.trim();
  if (value === '') {
    throw new OAuthClientError(OAuthClientErrorCode.Assertion, `The ${what} file ${path} is empty`);
  }
  if (!JWT_RE.test(value)) {
    throw new OAuthClientError(
      OAuthClientErrorCode.Assertion,
      `The ${what} file ${path} does not hold a JWT (expected one compact JWS or JWE)`,
    );
  }
  return value;
}

/**
 * One jwt-bearer token request. Only `invalid_target` is retried (once, without `resource`, as for
 * every grant): any other rejection is final. `dpop`: the DPoP handle of the grant's key.
 */
export async function requestJwtBearer(
  config: Configuration,
  assertion: string,
  scopes: string[] | undefined,
  resource: string | undefined,
  what = 'JWT-bearer token request',
  signal?: AbortSignal,
  dpop?: DPoPOptions,
): Promise<{ response: TokenEndpointResponse; resource: string | undefined }> {
  try {
    const response = await genericGrantRequest(
      config,
      JWT_BEARER_GRANT,
      { assertion, ...scopeParams(scopes, resource) },
      dpop,
    );
    return { response, resource };
  } catch (err) {
    const e = classifyGrantError(err, what, signal);
    if (resource !== undefined && e.oauthError === 'invalid_target') {
      return requestJwtBearer(config, assertion, scopes, undefined, what, signal, dpop);
    }
    throw e;
  }
}

/** Reads the assertion file and runs the grant (login and every renewal). */
export async function requestJwtBearerFromFile(
  config: Configuration,
  assertionFile: string,
  scopes: string[] | undefined,
  resource: string | undefined,
  signal?: AbortSignal,
  dpop?: DPoPOptions,
): Promise<{ response: TokenEndpointResponse; resource: string | undefined }> {
  const assertion = await readAssertionFile(assertionFile, 'workload assertion');
  return requestJwtBearer(config, assertion, scopes, resource, 'JWT-bearer token request', signal, dpop);
}

export interface JwtBearerLoginOptions extends Omit<LoginOptions, 'client'> {
  /** File holding the workload JWT (e.g. `/var/run/secrets/tokens/mcp`); re-read at every token request. */
  assertionFile: string;
  /**
   * The client at the AS, when it wants one: an id alone (`client_id` in the body), with a secret,
   * or with a `private_key_jwt` key. Without an id the request carries no client identification.
   * Never registered dynamically.
   */
  client?: StaticClientOptions | undefined;
}

/**
 * Obtains a token with the JWT-bearer grant and stores the grant; the session re-runs it (re-reading
 * the file) at expiry.
 *
 * @throws OAuthClientError `ERR_BASTION_OAUTH_ASSERTION`, `_INVALID_GRANT` (expired / wrong audience /
 *   untrusted assertion), `_TOKEN_REQUEST` (`invalid_scope`, `unauthorized_client`, …),
 *   `_AS_UNAVAILABLE`, `_CLIENT_ASSERTION_KEY`.
 */
export async function loginWithJwtBearer(options: JwtBearerLoginOptions): Promise<LoginResult> {
  const plan = planLogin({ ...options, client: undefined });
  if (typeof options.assertionFile !== 'string' || options.assertionFile === '')
    throw new TypeError('"assertionFile" must be the path of the workload JWT file');
  validateStaticClient(options.client, 'client');
  const client = staticClientIdentity(plan.as, options.client);
  const dpop = await prepareLoginDPoP(options.dpop, options.auth);
  return options.store.withLock(
    grantKey(plan.name),
    async () => {
      const config = await configurationFor(plan.as, client, {
        fetch: plan.fetch,
        timeoutMs: plan.requestTimeoutMs,
      });
      const { response, resource } = await requestJwtBearerFromFile(
        config,
        options.assertionFile,
        plan.scopes,
        plan.resource,
        options.signal,
        dpop?.options(config),
      );
      return persistLogin(
        { ...options, client: undefined },
        plan,
        'jwt_bearer',
        client,
        resource,
        toStoredTokens(response),
        response.scope,
        { assertionFile: options.assertionFile, dpop: dpop?.keyFor(response) },
      );
    },
    { signal: options.signal },
  );
}
