/** Headless machine login with the client credentials grant; the session re-runs it at expiry. */
import { clientCredentialsGrant, type Configuration, type TokenEndpointResponse } from 'openid-client';
import { resolveClientIdentity } from './client-registration.js';
import { grantKey } from './credentials.js';
import { OAuthClientError } from './errors.js';
import { type LoginOptions, type LoginResult, persistLogin, planLogin, scopeParams } from './login-common.js';
import { buildConfiguration, classifyGrantError, toStoredTokens } from './openid.js';

/** One client credentials request, retried once without `resource` on `invalid_target`. */
export async function requestClientCredentials(
  config: Configuration,
  scopes: string[] | undefined,
  resource: string | undefined,
  signal?: AbortSignal,
): Promise<{ response: TokenEndpointResponse; resource: string | undefined }> {
  try {
    return { response: await clientCredentialsGrant(config, scopeParams(scopes, resource)), resource };
  } catch (err) {
    const e = classifyGrantError(err, 'client credentials request', signal);
    if (resource !== undefined && e instanceof OAuthClientError && e.oauthError === 'invalid_target') {
      return requestClientCredentials(config, scopes, undefined, signal);
    }
    throw e;
  }
}

/**
 * Obtains a token with the client credentials grant (a pre-registered confidential client, or a
 * confidential DCR registration) and stores the grant.
 *
 * @throws OAuthClientError `ERR_BASTION_OAUTH_NO_CLIENT`, `_TOKEN_REQUEST`, `_AS_UNAVAILABLE`, `_REGISTRATION`.
 */
export async function loginWithClientCredentials(options: LoginOptions): Promise<LoginResult> {
  const plan = planLogin(options);
  return options.store.withLock(
    grantKey(plan.name),
    async () => {
      const client = await resolveClientIdentity({
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
      const config = buildConfiguration(plan.as, client, {
        fetch: plan.fetch,
        timeoutMs: plan.requestTimeoutMs,
      });
      const { response, resource } = await requestClientCredentials(
        config,
        plan.scopes,
        plan.resource,
        options.signal,
      );
      return persistLogin(
        options,
        plan,
        'client_credentials',
        client,
        resource,
        toStoredTokens(response),
        response.scope,
      );
    },
    { signal: options.signal },
  );
}
