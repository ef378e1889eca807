/**
 * Interactive login: authorization code + PKCE S256 through the loopback callback server, with
 * `state`, RFC 9207 `iss` checks, RFC 8707 `resource` (one retry without it on `invalid_target`) and
 * the workload's store lock held for the whole flow (no two instances race a PKCE verifier).
 */
import {
  authorizationCodeGrant,
  buildAuthorizationUrl,
  calculatePKCECodeChallenge,
  randomPKCECodeVerifier,
  randomState,
  type TokenEndpointResponse,
} from 'openid-client';
import { assertS256 } from './authorization-server.js';
import { callbackPortFor, startCallbackServer } from './callback-server.js';
import { resolveClientIdentity } from './client-registration.js';
import { grantKey, type ClientIdentity } from './credentials.js';
import { type LoginDPoP, prepareLoginDPoP } from './dpop.js';
import { OAuthClientError, OAuthClientErrorCode } from './errors.js';
import {
  type LoginOptions,
  type LoginResult,
  persistLogin,
  planLogin,
  type LoginPlan,
} from './login-common.js';
import { buildConfiguration, classifyGrantError, toStoredTokens } from './openid.js';

export interface AuthorizationCodeLoginOptions extends LoginOptions {
  /**
   * Receives the authorization URL. The caller prints it, opens a browser (unless `--no-browser`) and
   * shows a spinner; the returned promise is awaited before waiting for the callback.
   */
  onAuthorizationUrl: (url: string) => void | Promise<void>;
  /** Callback port. Default: `callbackPortFor(serverUrl)` (stable, 33400–33999). 0 = any free port. */
  callbackPort?: number | undefined;
  /** Host name in the redirect URI. Default: `'127.0.0.1'` (RFC 8252 §8.3); the server binds 127.0.0.1 either way. */
  redirectHost?: '127.0.0.1' | 'localhost' | undefined;
  /** Callback path. Default: `/callback`. */
  callbackPath?: string | undefined;
  /** How long to wait for the user, in ms. Default: 300000 (5 minutes). */
  loginTimeoutMs?: number | undefined;
  /** Send the scopes under this authorization parameter instead of `scope` (Slack: `user_scope`). */
  scopeParamName?: string | undefined;
  /** Extra authorization request parameters for IdP quirks (`access_type=offline`, `audience=…`, `prompt=consent`). */
  authorizeParams?: Record<string, string> | undefined;
}

const PROTECTED_PARAMS = new Set([
  'client_id',
  'redirect_uri',
  'response_type',
  'state',
  'code_challenge',
  'code_challenge_method',
]);

function validate(options: AuthorizationCodeLoginOptions): number {
  if (typeof options.onAuthorizationUrl !== 'function')
    throw new TypeError('"onAuthorizationUrl" must be a function');
  const timeout = options.loginTimeoutMs ?? 300_000;
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new TypeError('"loginTimeoutMs" must be a positive number');
  if (options.scopeParamName !== undefined && !/^[A-Za-z0-9_.-]+$/.test(options.scopeParamName)) {
    throw new TypeError('"scopeParamName" must be a parameter name');
  }
  for (const [k, v] of Object.entries(options.authorizeParams ?? {})) {
    if (typeof v !== 'string') throw new TypeError(`"authorizeParams.${k}" must be a string`);
    if (PROTECTED_PARAMS.has(k))
      throw new TypeError(`"authorizeParams" cannot set the protocol parameter "${k}"`);
  }
  return timeout;
}

/**
 * Runs the browser login for workload `name` and stores the grant.
 *
 * @throws OAuthClientError `ERR_BASTION_OAUTH_NO_S256`, `_CALLBACK_PORT_IN_USE`, `_STATE_MISMATCH`,
 *   `_ISS_MISMATCH`, `_AUTHORIZATION_DENIED`, `_TIMEOUT`, `_ABORTED`, `_NO_CLIENT`, `_REGISTRATION`,
 *   `_INVALID_GRANT`, `_TOKEN_REQUEST`, `_AS_UNAVAILABLE`, `_LOCK_TIMEOUT`.
 */
export async function loginWithAuthorizationCode(
  options: AuthorizationCodeLoginOptions,
): Promise<LoginResult> {
  const loginTimeoutMs = validate(options);
  const plan = planLogin(options, { offlineAccess: true });
  assertS256(plan.as);
  if (typeof plan.as.authorization_endpoint !== 'string') {
    throw new OAuthClientError(
      OAuthClientErrorCode.Discovery,
      `The authorization server ${plan.as.issuer} has no authorization_endpoint`,
    );
  }
  const port = options.callbackPort ?? callbackPortFor(options.auth.serverUrl);
  const dpop = await prepareLoginDPoP(options.dpop, options.auth);
  return options.store.withLock(
    grantKey(plan.name),
    async () => {
      const server = await startCallbackServer({
        port,
        redirectHost: options.redirectHost,
        path: options.callbackPath,
      });
      const deadline = AbortSignal.timeout(loginTimeoutMs);
      const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
      try {
        const identity = (clientOptions: typeof options.client) =>
          resolveClientIdentity({
            as: plan.as,
            store: options.store,
            client: clientOptions,
            grantTypes: ['authorization_code', 'refresh_token'],
            redirectUri: server.redirectUri,
            scopes: plan.scopes,
            fetch: plan.fetch,
            timeoutMs: plan.requestTimeoutMs,
            signal: options.signal,
            allowInsecureHttp: plan.allowInsecureHttp,
          });
        let client = await identity(options.client);
        let resource = plan.resource;
        let resourceRetried = false;
        for (;;) {
          try {
            const response = await runOnce(
              options,
              plan,
              client,
              server,
              resource,
              signal,
              loginTimeoutMs,
              dpop,
            );
            return await persistLogin(
              options,
              plan,
              'authorization_code',
              client,
              resource,
              toStoredTokens(response),
              response.scope,
              { dpop: dpop?.keyFor(response) },
            );
          } catch (err) {
            if (
              !resourceRetried &&
              resource !== undefined &&
              err instanceof OAuthClientError &&
              err.oauthError === 'invalid_target'
            ) {
              resourceRetried = true;
              resource = undefined; // one automatic retry without the RFC 8707 parameter
              continue;
            }
            if (cimdRejected(err, client, plan)) {
              // Once: the retry uses a registered client id, which is never 'cimd'.
              options.onWarning?.({
                code: 'CIMD_REJECTED',
                message: `The authorization server ${plan.as.issuer} rejected the client metadata document ${client.clientId} (${(err as OAuthClientError).oauthError}); registering a client dynamically instead`,
              });
              client = await identity({ ...options.client, clientMetadataUrl: undefined });
              continue;
            }
            throw err;
          }
        }
      } finally {
        await server.close();
      }
    },
    { timeoutMs: loginTimeoutMs, signal: options.signal },
  );
}

/** The AS refused a Client ID Metadata Document client id and offers RFC 7591 registration instead. */
function cimdRejected(err: unknown, client: ClientIdentity, plan: LoginPlan): boolean {
  return (
    client.source === 'cimd' &&
    err instanceof OAuthClientError &&
    (err.oauthError === 'invalid_client' || err.oauthError === 'unauthorized_client') &&
    typeof plan.as.registration_endpoint === 'string'
  );
}

async function runOnce(
  options: AuthorizationCodeLoginOptions,
  plan: LoginPlan,
  client: ClientIdentity,
  server: Awaited<ReturnType<typeof startCallbackServer>>,
  resource: string | undefined,
  signal: AbortSignal,
  loginTimeoutMs: number,
  dpop: LoginDPoP | undefined,
): Promise<TokenEndpointResponse> {
  const config = buildConfiguration(plan.as, client, { fetch: plan.fetch, timeoutMs: plan.requestTimeoutMs });
  const verifier = randomPKCECodeVerifier();
  const state = randomState();
  const params: Record<string, string> = {
    ...(options.authorizeParams ?? {}),
    response_type: 'code',
    redirect_uri: server.redirectUri,
    state,
    code_challenge: await calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  };
  if (plan.scopes && plan.scopes.length > 0)
    params[options.scopeParamName ?? 'scope'] = plan.scopes.join(' ');
  if (resource) params['resource'] = resource;
  // RFC 9449 §10: binds the authorization code to the DPoP key.
  if (dpop) params['dpop_jkt'] = dpop.key.jkt;
  const url = buildAuthorizationUrl(config, params);

  const waiting = server.next(signal);
  // The callback may arrive while `onAuthorizationUrl` is still running (it may await the browser);
  // its failure aborts the login, its completion does not end the wait.
  const announced = Promise.resolve()
    .then(() => options.onAuthorizationUrl(url.href))
    .then(() => new Promise<never>(() => {}));
  let callback: Awaited<typeof waiting>;
  try {
    callback = await Promise.race([waiting, announced]);
  } catch (cause) {
    if (
      cause instanceof Error &&
      !signal.aborted &&
      cause.name !== 'TimeoutError' &&
      cause.name !== 'AbortError'
    ) {
      waiting.catch(() => {});
      throw cause; // onAuthorizationUrl failed
    }
    if (options.signal?.aborted) {
      throw new OAuthClientError(OAuthClientErrorCode.Aborted, 'The login was aborted', { cause });
    }
    throw new OAuthClientError(
      OAuthClientErrorCode.Timeout,
      `The login was not completed within ${Math.round(loginTimeoutMs / 1000)} s`,
      { cause },
    );
  }
  const { respond } = callback;
  const received = new URL(server.redirectUri);
  received.search = callback.url.search;
  const q = received.searchParams;

  if (q.get('state') !== state) {
    respond(
      false,
      'Login failed',
      'The response did not match this login (state mismatch). Start the login again.',
    );
    throw new OAuthClientError(
      OAuthClientErrorCode.StateMismatch,
      'The authorization response state does not match the request (possible CSRF); login refused',
    );
  }
  const iss = q.get('iss');
  if (
    (iss === null && plan.as.authorization_response_iss_parameter_supported === true) ||
    (iss !== null && iss !== plan.as.issuer)
  ) {
    respond(false, 'Login failed', 'The response came from an unexpected authorization server.');
    throw new OAuthClientError(
      OAuthClientErrorCode.IssMismatch,
      `The authorization response ${iss === null ? 'lacks the iss parameter' : `has iss ${iss}`}; expected ${plan.as.issuer} (RFC 9207)`,
    );
  }
  const error = q.get('error');
  if (error !== null) {
    const description = q.get('error_description');
    respond(false, 'Login failed', `The authorization server answered ${error}. You can close this tab.`);
    throw new OAuthClientError(
      OAuthClientErrorCode.AuthorizationDenied,
      `The authorization server answered ${error}${description ? `: ${description.slice(0, 200)}` : ''}`,
      { oauthError: error },
    );
  }
  if (!q.get('code')) {
    respond(false, 'Login failed', 'The response carried no authorization code.');
    throw new OAuthClientError(
      OAuthClientErrorCode.AuthorizationDenied,
      'The authorization response carried no code',
    );
  }
  try {
    const response = await authorizationCodeGrant(
      config,
      received,
      { pkceCodeVerifier: verifier, expectedState: state },
      resource ? { resource } : undefined,
      dpop?.options(config),
    );
    respond(
      true,
      'Signed in',
      'Bastion is now connected. You can close this tab and return to the terminal.',
    );
    return response;
  } catch (err) {
    const classified = classifyGrantError(err, 'authorization code exchange', options.signal);
    respond(false, 'Login failed', 'Exchanging the authorization code failed. See the terminal for details.');
    throw classified;
  }
}
