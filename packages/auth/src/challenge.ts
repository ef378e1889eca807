/**
 * `WWW-Authenticate: Bearer` challenges (RFC 6750 §3, RFC 9728 §5.1) and the RFC 9728 metadata URL.
 */

export interface BearerChallenge {
  /** Protection space. */
  readonly realm?: string | undefined;
  /** RFC 9728 protected-resource metadata URL. */
  readonly resourceMetadata?: string | undefined;
  /** Space-separated scopes (configured scopes on 401, required scopes on 403). */
  readonly scope?: string | undefined;
  /** RFC 6750 error code; omitted when the request carried no credential (§3.1). */
  readonly error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope' | undefined;
  readonly errorDescription?: string | undefined;
}

/**
 * Serialises a Bearer challenge. Parameters appear in the order realm, resource_metadata, scope,
 * error, error_description, each a quoted-string; characters outside what RFC 6750 allows in a
 * value (%x20-21 / %x23-5B / %x5D-7E) are dropped, so a value can never break out of its quotes.
 *
 * @example
 * formatBearerChallenge({ realm: 'https://idp', resourceMetadata: 'https://p/.well-known/oauth-protected-resource/mcp', error: 'invalid_token', errorDescription: 'The access token expired' })
 * // 'Bearer realm="https://idp", resource_metadata="https://p/.well-known/oauth-protected-resource/mcp", error="invalid_token", error_description="The access token expired"'
 */
export function formatBearerChallenge(challenge: BearerChallenge): string {
  const params: string[] = [];
  const add = (name: string, value: string | undefined): void => {
    if (value !== undefined && value !== '') params.push(`${name}="${sanitize(value)}"`);
  };
  add('realm', challenge.realm);
  add('resource_metadata', challenge.resourceMetadata);
  add('scope', challenge.scope);
  add('error', challenge.error);
  add('error_description', challenge.errorDescription);
  return params.length === 0 ? 'Bearer' : `Bearer ${params.join(', ')}`;
}

function sanitize(value: string): string {
  return value.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '');
}

/** The RFC 9728 well-known path prefix. */
export const PROTECTED_RESOURCE_WELL_KNOWN = '/.well-known/oauth-protected-resource';

/**
 * The RFC 9728 §3.1 metadata URL of a resource: the well-known segment is inserted between the host
 * and the resource's path (`https://p/mcp` → `https://p/.well-known/oauth-protected-resource/mcp`);
 * a root path adds nothing. The resource's query is kept.
 */
export function resourceMetadataUrl(resource: string | URL): string {
  const url = new URL(resource.toString());
  const path = url.pathname === '/' ? '' : url.pathname;
  return `${url.origin}${PROTECTED_RESOURCE_WELL_KNOWN}${path}${url.search}`;
}

/** The well-known paths under which the metadata of `resource` is served (root and path-suffixed). */
export function resourceMetadataPaths(resource: string | URL): string[] {
  const url = new URL(resource.toString());
  const path = url.pathname === '/' ? '' : url.pathname;
  const paths = [PROTECTED_RESOURCE_WELL_KNOWN];
  if (path !== '') paths.push(`${PROTECTED_RESOURCE_WELL_KNOWN}${path}`);
  return paths;
}
