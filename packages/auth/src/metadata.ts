/**
 * RFC 9728 OAuth 2.0 Protected Resource Metadata: the document and the routes serving it at
 * `/.well-known/oauth-protected-resource` and the path-suffixed form
 * (`/.well-known/oauth-protected-resource/mcp` for `https://proxy/mcp`). The routes need no token,
 * answer CORS preflights, and allow any origin (the document is public and carries no credential).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Route } from '@bastion-mcp/proxy-core';
import { resourceMetadataPaths } from './challenge.js';
import { assertNonEmptyString, assertStringArray } from './internal/validate.js';

export interface ProtectedResourceMetadataOptions {
  /** The resource identifier (the proxy's public MCP URL, e.g. `https://mcp.example.com/mcp`). */
  readonly resource: string;
  /** Authorization servers the resource accepts tokens from (issuer identifiers). Default `[]`. */
  readonly authorizationServers?: readonly string[];
  /** Scopes advertised as `scopes_supported` (omitted when empty). Default `[]`. */
  readonly scopesSupported?: readonly string[];
  /** Human-readable `resource_name`. */
  readonly resourceName?: string | undefined;
  /** `resource_documentation` URL. */
  readonly resourceDocumentation?: string | undefined;
  /** `Cache-Control: max-age` of the document, s. Default 300. */
  readonly maxAgeSeconds?: number;
}

export interface ProtectedResourceMetadata {
  readonly resource: string;
  readonly authorization_servers?: readonly string[];
  readonly bearer_methods_supported: readonly string[];
  readonly scopes_supported?: readonly string[];
  readonly resource_name?: string;
  readonly resource_documentation?: string;
}

/** Builds the metadata document (RFC 9728 §2). */
export function buildProtectedResourceMetadata(
  options: ProtectedResourceMetadataOptions,
): ProtectedResourceMetadata {
  assertNonEmptyString('resource', options.resource);
  const servers = options.authorizationServers ?? [];
  assertStringArray('authorizationServers', servers);
  const scopes = options.scopesSupported ?? [];
  assertStringArray('scopesSupported', scopes);
  return {
    resource: options.resource,
    ...(servers.length > 0 ? { authorization_servers: [...servers] } : {}),
    bearer_methods_supported: ['header'],
    ...(scopes.length > 0 ? { scopes_supported: [...scopes] } : {}),
    ...(options.resourceName ? { resource_name: options.resourceName } : {}),
    ...(options.resourceDocumentation ? { resource_documentation: options.resourceDocumentation } : {}),
  };
}

const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, HEAD, OPTIONS',
  'access-control-allow-headers': 'authorization, content-type, mcp-protocol-version',
  'access-control-max-age': '86400',
} as const;

/**
 * The routes serving the document: GET, HEAD and OPTIONS (CORS preflight → 204) on the root
 * well-known path and on the path-suffixed one.
 */
export function createProtectedResourceRoutes(options: ProtectedResourceMetadataOptions): Route[] {
  const document = buildProtectedResourceMetadata(options);
  const body = Buffer.from(JSON.stringify(document));
  const maxAge = options.maxAgeSeconds ?? 300;
  if (!Number.isSafeInteger(maxAge) || maxAge < 0)
    throw new TypeError('"maxAgeSeconds" must be a non-negative integer');

  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...CORS_HEADERS, 'content-length': '0' });
      res.end();
      return;
    }
    res.writeHead(200, {
      ...CORS_HEADERS,
      'content-type': 'application/json',
      'cache-control': `public, max-age=${maxAge}`,
      'content-length': String(body.length),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const routes: Route[] = [];
  for (const path of resourceMetadataPaths(options.resource)) {
    for (const method of ['GET', 'HEAD', 'OPTIONS'] as const) {
      routes.push({ method, path, handle: serve });
    }
  }
  return routes;
}
