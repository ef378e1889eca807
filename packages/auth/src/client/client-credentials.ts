/**
 * Headless machine login with the client credentials grant (client secret, or `private_key_jwt`
 * with a signing key); the session re-runs it at expiry.
 */
import {
  clientCredentialsGrant,
  type Configuration,
  type DPoPOptions,
  type TokenEndpointResponse,
} from 'openid-client';
import { configurationFor, staticClientIdentity } from './client-auth.js';
import { resolveClientIdentity } from './client-registration.js';
import { type ClientAssertionKeySpec, type ClientIdentity, grantKey } from './credentials.js';
import { prepareLoginDPoP } from './dpop.js';
import { OAuthClientError } from './errors.js';
import { type LoginOptions, type LoginResult, persistLogin, planLogin, scopeParams } from './login-common.js';
import { classifyGrantError, toStoredTokens } from './openid.js';
import { validateClientAssertionKey } from './private-key-jwt.js';

export interface ClientCredentialsLoginOptions extends LoginOptions {
  /**
   * Authenticate the pre-registered `client.clientId` with `private_key_jwt` (RFC 7523 §2.2),
   * signing with this key, instead of a client secret. The key file is read at every token request.
   */
  clientAssertionKey?: ClientAssertionKeySpec | undefined;
}

/**
 * One client credentials request, retried once without `resource` on `invalid_target`. `dpop`: the
 * DPoP handle of the grant's key (a proof per request, one retry on `use_dpop_nonce`).
 */
export async function requestClientCredentials(
  config: Configuration,
  scopes: string[] | undefined,
  resource: string | undefined,
  signal?: AbortSignal,
  dpop?: DPoPOptions,
): Promise<{ response: TokenEndpointResponse; resource: string | undefined }> {
  try {
    return { response: await clientCredentialsGrant(config, scopeParams(scopes, resource), dpop), resource };
  } catch (err) {
    const e = classifyGrantError(err, 'client credentials request', signal);
    if (resource !== undefined && e instanceof OAuthClientError && e.oauthError === 'invalid_target') {
      return requestClientCredentials(config, scopes, undefined, signal, dpop);
    }
    throw e;
  }
}

/**
 * Obtains a token with the client credentials grant (a pre-registered confidential client with a
 * secret or a signing key, or a confidential DCR registration) and stores the grant.
 *
 * @throws OAuthClientError `ERR_BASTION_OAUTH_NO_CLIENT`, `_TOKEN_REQUEST`, `_AS_UNAVAILABLE`,
 *   `_REGISTRATION`, `_CLIENT_ASSERTION_KEY`.
 */
export async function loginWithClientCredentials(
  options: ClientCredentialsLoginOptions,
): Promise<LoginResult> {
  const plan = planLogin(options);
  const assertionKey = options.clientAssertionKey;
  if (assertionKey !== undefined) {
    validateClientAssertionKey(assertionKey, 'clientAssertionKey');
    if (!options.client?.clientId) throw new TypeError('"clientAssertionKey" needs "client.clientId"');
    if (options.client.clientSecret)
      throw new TypeError('"clientAssertionKey" and "client.clientSecret" are exclusive');
  }
  const dpop = await prepareLoginDPoP(options.dpop, options.auth);
  return options.store.withLock(
    grantKey(plan.name),
    async () => {
      const client: ClientIdentity = assertionKey
        ? staticClientIdentity(plan.as, { clientId: options.client?.clientId, assertionKey })
        : await resolveClientIdentity({
            as: plan.as,
            store: options.store,
            client: options.client,
            grantTypes: ['client_credentials'],
            scopes: plan.scopes,
            fetch: plan.fetch,
            timeoutMs: plan.requestTimeoutMs,
            signal: options.signal,
            allowInsecureHttp: plan.allowInsecureHttp,
            confidential: true,
          });
      const config = await configurationFor(plan.as, client, {
        fetch: plan.fetch,
        timeoutMs: plan.requestTimeoutMs,
      });
      const { response, resource } = await requestClientCredentials(
        config,
        plan.scopes,
        plan.resource,
        options.signal,
        dpop?.options(config),
      );
      return persistLogin(
        options,
        plan,
        'client_credentials',
        client,
        resource,
        toStoredTokens(response),
        response.scope,
        { dpop: dpop?.keyFor(response) },
      );
    },
    { signal: options.signal },
  );
}
