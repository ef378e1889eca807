import type { TokenEndpointGrantContext } from 'oidc-provider';
import type { IdpState, ResourceConfig } from './state.js';

type Oidc = TokenEndpointGrantContext['oidc'];

export interface ResourceTokenRequest {
  accountId: string;
  /** The grant type recorded on the token (`gty`). */
  gty: string;
  target: ResourceConfig;
  scopes: string[];
  /** Extra claims of the JWT access token. */
  claims: Record<string, unknown>;
}

/**
 * Issues a JWT access token for `target` from a custom grant handler (token exchange, JWT bearer):
 * a Grant with the resource scopes, then the token signed with the IdP's current key.
 */
export async function issueResourceToken(
  state: IdpState,
  oidc: Oidc,
  req: ResourceTokenRequest,
): Promise<{ value: string; expiresIn: number; scope: string | undefined }> {
  const { provider, client } = oidc;
  if (!client) throw new TypeError('issueResourceToken needs an authenticated client');
  const scope = req.scopes.join(' ') || undefined;
  const grant = new provider.Grant({ accountId: req.accountId, clientId: client.clientId });
  grant.addResourceScope(req.target.identifier, req.scopes.join(' '));
  const grantId = await grant.save();
  const token = new provider.AccessToken({ accountId: req.accountId, client, grantId, gty: req.gty, scope });
  token.resourceServer = new provider.ResourceServer(req.target.identifier, {
    audience: req.target.identifier,
    scope: req.target.scopes.join(' '),
    accessTokenTTL: req.target.ttlSeconds ?? state.accessTokenTtlSeconds,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: 'RS256', kid: state.keys.current.kid } },
  });
  state.tokenExtras.set(token, { claims: req.claims });
  const value = await token.save();
  return { value, expiresIn: token.expiration, scope: token.scope };
}
