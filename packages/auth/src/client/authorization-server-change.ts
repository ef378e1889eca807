/**
 * Authorization server migration (SEP-2352): after the remote rejects a token with 401, re-discover
 * its authorization server and compare it with the issuer the stored grant came from. Credentials
 * are bound to the AS that issued them: when the issuer changed, the caller logs in again with the
 * returned requirement (client registrations are cached per issuer, so the new AS gets its own
 * registration and the old client id, secret and tokens are never sent to it).
 */
import { assertWorkloadName, type ClientIdentity, loadGrant } from './credentials.js';
import {
  type DiscoveryOptions,
  httpContext,
  type RemoteAuthRequirement,
  resolveRemoteAuth,
} from './detect.js';
import { OAuthClientErrorCode, ReauthenticationRequiredError } from './errors.js';
import { sameIssuer } from './internal/url.js';
import { findProtectedResource, type PrmAttempt } from './protected-resource.js';
import type { TokenStore } from './store/types.js';
import { parseBearerChallenge } from './www-authenticate.js';

export interface AuthorizationServerChangeOptions extends DiscoveryOptions {
  /** The `WWW-Authenticate` of the 401, when the caller has it: its `resource_metadata` is tried first. */
  wwwAuthenticate?: string | null | undefined;
}

export type AuthorizationServerCheck =
  | {
      changed: false;
      /** The issuer of the stored grant, still named by the remote. */
      issuer: string;
    }
  | {
      changed: true;
      /** The issuer the stored grant (client and tokens) belongs to. */
      previousIssuer: string;
      /** How the stored grant's client was obtained: a `static` (pre-registered) client id is not portable to the new AS either. */
      previousClientSource: ClientIdentity['source'];
      /**
       * The scopes the stored grant requested: scopes belong to the remote (resource server), so a
       * login at the new AS can ask for them when the challenge and PRM name none.
       */
      previousScopes: string[] | undefined;
      /** The issuer the remote names now. */
      issuer: string;
      /** What a login at the new authorization server needs. */
      auth: RemoteAuthRequirement;
    };

/**
 * Re-discovers the authorization server of workload `name`'s remote (the 401's `resource_metadata`,
 * else the PRM URL found at login, else the well-known URLs; the 2025-03-26 fallback for remotes
 * without PRM) and tells whether it is still the stored grant's issuer. A PRM that lists several
 * servers counts as unchanged while the grant's issuer is among them. Sends no credential anywhere:
 * only metadata GETs.
 *
 * @throws ReauthenticationRequiredError `ERR_BASTION_OAUTH_UNAUTHENTICATED` when nothing is stored;
 *   discovery errors as `resolveRemoteAuth` (network, invalid PRM, issuer mismatch, …).
 */
export async function checkAuthorizationServer(
  store: TokenStore,
  name: string,
  options: AuthorizationServerChangeOptions = {},
): Promise<AuthorizationServerCheck> {
  assertWorkloadName(name);
  const grant = await loadGrant(store, name);
  if (!grant) {
    throw new ReauthenticationRequiredError(
      name,
      OAuthClientErrorCode.Unauthenticated,
      `"${name}" is not logged in`,
    );
  }
  const previousIssuer = grant.authorizationServer.issuer;
  const challengeUrl = parseBearerChallenge(options.wwwAuthenticate)?.resourceMetadata;
  if (grant.discovery === undefined) {
    // Cheap path: one PRM request, unchanged when it still lists the grant's issuer.
    const attempts: PrmAttempt[] = [];
    const prm = await findProtectedResource(
      grant.serverUrl,
      challengeUrl ?? grant.resourceMetadataUrl,
      httpContext(options),
      attempts,
    );
    if (prm?.metadata.authorization_servers.some((s) => sameIssuer(s, previousIssuer))) {
      return { changed: false, issuer: previousIssuer };
    }
  }
  const { wwwAuthenticate, ...discovery } = options;
  const auth = await resolveRemoteAuth(grant.serverUrl, wwwAuthenticate, {
    ...discovery,
    resourceMetadataUrl: grant.resourceMetadataUrl,
  });
  const issuer = auth.authorizationServer.issuer;
  // The listed issuer may differ from the metadata issuer (compatibility switch): compare both.
  if (
    sameIssuer(issuer, previousIssuer) ||
    auth.resourceMetadata.authorization_servers.some((s) => sameIssuer(s, previousIssuer))
  ) {
    return { changed: false, issuer: previousIssuer };
  }
  return {
    changed: true,
    previousIssuer,
    previousClientSource: grant.client.source,
    previousScopes: grant.scopes,
    issuer,
    auth,
  };
}
