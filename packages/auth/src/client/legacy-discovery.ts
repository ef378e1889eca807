/**
 * MCP 2025-03-26 authorization discovery, for servers that publish no RFC 9728 protected-resource
 * metadata: the MCP server's origin (its URL with the path discarded) is the authorization base URL;
 * its RFC 8414 metadata is used when it has some, else the default endpoints `/authorize`, `/token`
 * and `/register` at that origin. Used only when PRM is genuinely absent (see `detect.ts`).
 */
import {
  type AsMetadataAttempt,
  type AuthorizationServerDiscoveryOptions,
  type AuthorizationServerMetadata,
  findAuthorizationServerMetadata,
} from './authorization-server.js';
import { OAuthClientError, OAuthClientErrorCode } from './errors.js';
import type { HttpContext } from './internal/http.js';
import { assertSecureUrl } from './internal/url.js';

/**
 * How the authorization server of a remote was found: `prm` (RFC 9728, MCP 2025-06-18 and later),
 * `legacy-metadata` (2025-03-26: RFC 8414 metadata at the server's origin) or
 * `legacy-default-endpoints` (2025-03-26: no metadata, default endpoints at the server's origin).
 */
export type AuthDiscoveryMethod = 'prm' | 'legacy-metadata' | 'legacy-default-endpoints';

/** The 2025-03-26 authorization base URL: the MCP server URL without its path, query or fragment. */
export function authorizationBaseUrl(serverUrl: string | URL): string {
  return new URL(String(serverUrl)).origin;
}

/**
 * The metadata a 2025-03-26 client assumes for an authorization server without metadata: the default
 * endpoints at `baseUrl`, and PKCE S256 (the 2025-03-26 spec requires PKCE of every client, and
 * OAuth 2.1 servers must support S256).
 */
export function defaultEndpointsMetadata(baseUrl: string): AuthorizationServerMetadata {
  return {
    issuer: baseUrl,
    authorization_endpoint: `${baseUrl}/authorize`,
    token_endpoint: `${baseUrl}/token`,
    registration_endpoint: `${baseUrl}/register`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
  };
}

/**
 * The authorization server of a 2025-03-26 remote at `serverUrl`: the RFC 8414 (then OIDC) metadata
 * of its origin, validated like any other (the `issuer` must be the origin), else, only when every
 * metadata URL answered 404/410, the default endpoints. Any other answer (5xx, an invalid document)
 * is a discovery error: guessing endpoints is safe only when the server plainly has no metadata.
 */
export async function discoverLegacyAuthorizationServer(
  serverUrl: string,
  ctx: HttpContext & { allowInsecureHttp: boolean },
  options: AuthorizationServerDiscoveryOptions = {},
): Promise<{ metadata: AuthorizationServerMetadata; discovery: Exclude<AuthDiscoveryMethod, 'prm'> }> {
  const baseUrl = authorizationBaseUrl(serverUrl);
  assertSecureUrl(baseUrl, 'authorization base URL', ctx.allowInsecureHttp);
  const attempts: AsMetadataAttempt[] = [];
  const metadata = await findAuthorizationServerMetadata(baseUrl, ctx, options, attempts);
  if (metadata) return { metadata, discovery: 'legacy-metadata' };
  if (attempts.every((a) => a.outcome === 404 || a.outcome === 410)) {
    return { metadata: defaultEndpointsMetadata(baseUrl), discovery: 'legacy-default-endpoints' };
  }
  const tried = attempts.map(
    (a) => `${a.url} (${a.outcome === 'invalid-document' ? 'invalid document' : a.outcome})`,
  );
  throw new OAuthClientError(
    OAuthClientErrorCode.Discovery,
    `${serverUrl} publishes no protected resource metadata and the authorization server metadata at its origin is unusable; tried ${tried.join(', ')}`,
  );
}
