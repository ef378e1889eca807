/**
 * Does the remote MCP server need OAuth, and with which authorization server? Probes the server
 * without credentials; a 401 challenge leads to the protected-resource metadata (RFC 9728) and the
 * authorization-server metadata (RFC 8414 / OIDC). Network errors are errors: a remote that cannot be
 * reached is never treated as "no authentication needed".
 */
import {
  type AuthorizationServerMetadata,
  discoverAuthorizationServer,
  type OAuthWarning,
} from './authorization-server.js';
import { OAuthClientError, OAuthClientErrorCode } from './errors.js';
import { type FetchLike, type HttpContext, httpRequest } from './internal/http.js';
import { canonicalResourceUri, parseHttpUrl, sameIssuer } from './internal/url.js';
import {
  type AuthDiscoveryMethod,
  authorizationBaseUrl,
  discoverLegacyAuthorizationServer,
} from './legacy-discovery.js';
import {
  findProtectedResource,
  noProtectedResourceError,
  type PrmAttempt,
  type ProtectedResourceMetadata,
  protectedResourceAbsent,
} from './protected-resource.js';
import { type BearerChallenge, parseBearerChallenge, parseWwwAuthenticate } from './www-authenticate.js';

export interface DiscoveryOptions {
  /** Fetch implementation. Default: the global `fetch`. */
  fetch?: FetchLike | undefined;
  /** Timeout of each HTTP request, in ms. Default: 10000. */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Accept plain-HTTP OAuth URLs on non-loopback hosts. Default: false (loopback is always allowed). */
  allowInsecureHttp?: boolean | undefined;
  /** Accept AS metadata whose `issuer` differs from the discovered issuer (reported via `onWarning`). Default: false. */
  allowIssuerMismatch?: boolean | undefined;
  /** Use this AS (one of the PRM `authorization_servers`) instead of the first that validates. */
  authorizationServer?: string | undefined;
  /**
   * A PRM URL to try first when the challenge names none (e.g. where the PRM was found at login),
   * before the well-known URLs.
   */
  resourceMetadataUrl?: string | undefined;
  /** Receives compatibility warnings (issuer mismatch accepted, …). The library never logs. */
  onWarning?: ((warning: OAuthWarning) => void) | undefined;
}

export interface DetectRemoteAuthOptions extends DiscoveryOptions {
  /** Extra headers sent with the probe (e.g. static headers the proxy will forward). */
  headers?: Record<string, string> | undefined;
}

/** The remote requires OAuth: everything a login needs. */
export interface RemoteAuthRequirement {
  required: true;
  /** Canonical URI of the MCP server (no fragment, no trailing slash). */
  serverUrl: string;
  /**
   * The resource identifier: the PRM `resource` (validated against `serverUrl`); the canonical server
   * URL for a 2025-03-26 server without PRM.
   */
  resource: string;
  /** Where the PRM came from; `undefined` for a 2025-03-26 server without PRM. */
  resourceMetadataUrl: string | undefined;
  /**
   * The PRM. For a 2025-03-26 server without PRM, the equivalent the fallback assumed:
   * `{ resource: <canonical server URL>, authorization_servers: [<server origin>] }`.
   */
  resourceMetadata: ProtectedResourceMetadata;
  authorizationServer: AuthorizationServerMetadata;
  /**
   * How the AS was found: `prm` (RFC 9728), or the MCP 2025-03-26 fallback for servers without PRM:
   * `legacy-metadata` (RFC 8414 metadata at the server's origin) or `legacy-default-endpoints`
   * (`/authorize`, `/token`, `/register` at the server's origin).
   */
  discovery: AuthDiscoveryMethod;
  /** The parsed `Bearer` challenge of the 401, when there was one. */
  challenge: BearerChallenge | undefined;
  /** Auth schemes of the 401 challenge, lower-cased (`bearer`, `dpop`, …); DPoP `auto` looks for `dpop`. */
  challengeSchemes?: string[] | undefined;
  /** Scopes to request by default: the challenge `scope`, else PRM `scopes_supported`, else none. */
  scopes: string[] | undefined;
}

export type RemoteAuthDetection = { required: false; status: number } | RemoteAuthRequirement;

const PROBE_BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: {
    protocolVersion: '2025-11-25',
    capabilities: {},
    clientInfo: { name: 'bastion-auth-probe', version: '0.1.0' },
  },
});

/** The HTTP context of discovery requests (shared with re-discovery; not a package export). */
export function httpContext(options: DiscoveryOptions): HttpContext & { allowInsecureHttp: boolean } {
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new TypeError('"timeoutMs" must be a positive number');
  return {
    fetch: options.fetch ?? fetch,
    timeoutMs,
    signal: options.signal,
    allowInsecureHttp: options.allowInsecureHttp ?? false,
  };
}

/**
 * Probes `serverUrl` (POST `initialize`, then GET for servers that refuse POST) and, on a 401,
 * resolves the OAuth configuration. No 401 → `{ required: false }`.
 *
 * @throws OAuthClientError `ERR_BASTION_OAUTH_NETWORK` (remote unreachable), `_DISCOVERY`,
 *   `_RESOURCE_MISMATCH`, `_ISSUER_MISMATCH`, `_UNSUPPORTED_CHALLENGE`, `_INSECURE_URL`.
 */
export async function detectRemoteAuth(
  serverUrl: string,
  options: DetectRemoteAuthOptions = {},
): Promise<RemoteAuthDetection> {
  const url = parseHttpUrl(serverUrl, 'serverUrl');
  const ctx = httpContext(options);
  const extra = options.headers ?? {};
  let res = await httpRequest(
    url.href,
    {
      method: 'POST',
      headers: {
        ...extra,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: PROBE_BODY,
    },
    ctx,
    `probe of ${url.href}`,
  );
  if (res.status === 404 || res.status === 405) {
    await res.body?.cancel().catch(() => {});
    res = await httpRequest(
      url.href,
      { method: 'GET', headers: { ...extra, accept: 'text/event-stream' } },
      ctx,
      `probe of ${url.href}`,
    );
  }
  const header = res.headers.get('www-authenticate');
  const status = res.status;
  const sessionId = res.headers.get('mcp-session-id');
  await res.body?.cancel().catch(() => {});
  if (status !== 401) {
    if (sessionId) {
      // Politely end the session the probe created (best effort).
      await httpRequest(
        url.href,
        { method: 'DELETE', headers: { 'mcp-session-id': sessionId } },
        ctx,
        'probe cleanup',
      )
        .then((r) => r.body?.cancel())
        .catch(() => {});
    }
    return { required: false, status };
  }
  return resolveRemoteAuth(url.href, header, options);
}

/**
 * Resolves the OAuth configuration of `serverUrl` from a `WWW-Authenticate` value (of a 401 or a 403
 * `insufficient_scope`), or from well-known discovery alone when `wwwAuthenticate` is null.
 */
export async function resolveRemoteAuth(
  serverUrl: string,
  wwwAuthenticate: string | null | undefined,
  options: DiscoveryOptions = {},
): Promise<RemoteAuthRequirement> {
  const url = parseHttpUrl(serverUrl, 'serverUrl');
  const ctx = httpContext(options);
  const challenge = parseBearerChallenge(wwwAuthenticate);
  const challengeSchemes = parseWwwAuthenticate(wwwAuthenticate).map((c) => c.scheme);
  const attempts: PrmAttempt[] = [];
  const prm = await findProtectedResource(
    url.href,
    challenge?.resourceMetadata ?? options.resourceMetadataUrl,
    ctx,
    attempts,
  );
  if (!prm) {
    if (!challenge && challengeSchemes.length > 0) {
      throw new OAuthClientError(
        OAuthClientErrorCode.UnsupportedChallenge,
        `${url.href} asks for ${challengeSchemes.join(', ')} authentication and publishes no OAuth protected resource metadata; configure a static header or bearer token instead`,
        { cause: noProtectedResourceError(url.href, attempts) },
      );
    }
    // MCP 2025-03-26 servers publish no PRM: only when it is plainly absent (404/410 everywhere, no
    // `resource_metadata` in the challenge) is the server's origin taken as the authorization server.
    if (!challenge?.resourceMetadata && protectedResourceAbsent(attempts)) {
      return { ...(await resolveLegacyRemoteAuth(url, challenge, ctx, options)), challengeSchemes };
    }
    throw noProtectedResourceError(url.href, attempts);
  }
  const servers = prm.metadata.authorization_servers;
  const chosen = options.authorizationServer
    ? servers.filter((s) => s === options.authorizationServer)
    : servers;
  if (chosen.length === 0) {
    throw new OAuthClientError(
      OAuthClientErrorCode.Discovery,
      `The protected resource metadata at ${prm.url} does not list the authorization server ${options.authorizationServer}`,
    );
  }
  let lastError: unknown;
  for (const issuer of chosen) {
    try {
      const as = await discoverAuthorizationServer(issuer, ctx, options);
      const scopes = challenge?.scope ?? nonEmpty(prm.metadata.scopes_supported);
      return {
        required: true,
        serverUrl: canonicalResourceUri(url),
        resource: prm.metadata.resource,
        resourceMetadataUrl: prm.url,
        resourceMetadata: prm.metadata,
        authorizationServer: as,
        discovery: 'prm',
        challenge,
        challengeSchemes,
        scopes,
      };
    } catch (err) {
      // Issuer mismatch and network failures are decisive; a server without metadata lets us try the next one.
      if (!(err instanceof OAuthClientError) || err.code !== OAuthClientErrorCode.Discovery) throw err;
      lastError = err;
    }
  }
  throw lastError;
}

/** The 2025-03-26 fallback: the server's origin is the AS (its RFC 8414 metadata, else default endpoints). */
async function resolveLegacyRemoteAuth(
  url: URL,
  challenge: BearerChallenge | undefined,
  ctx: ReturnType<typeof httpContext>,
  options: DiscoveryOptions,
): Promise<RemoteAuthRequirement> {
  const baseUrl = authorizationBaseUrl(url);
  if (options.authorizationServer && !sameIssuer(options.authorizationServer, baseUrl)) {
    throw new OAuthClientError(
      OAuthClientErrorCode.Discovery,
      `${url.href} publishes no protected resource metadata, so its authorization server is its origin ${baseUrl}, not ${options.authorizationServer}`,
    );
  }
  const { metadata, discovery } = await discoverLegacyAuthorizationServer(url.href, ctx, options);
  const resource = canonicalResourceUri(url);
  return {
    required: true,
    serverUrl: resource,
    resource,
    resourceMetadataUrl: undefined,
    resourceMetadata: { resource, authorization_servers: [metadata.issuer] },
    authorizationServer: metadata,
    discovery,
    challenge,
    scopes: challenge?.scope,
  };
}

function nonEmpty(values: string[] | undefined): string[] | undefined {
  return values && values.length > 0 ? [...values] : undefined;
}
