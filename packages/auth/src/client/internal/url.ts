/** URL helpers: canonical resource URIs, well-known metadata URLs, the HTTPS rule. */
import { OAuthClientError, OAuthClientErrorCode } from '../errors.js';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** True for `localhost`, `127.0.0.0/8` and `::1`. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (LOOPBACK_HOSTS.has(host) || host.endsWith('.localhost')) return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Parses `value` as an absolute http(s) URL or throws a `TypeError` naming `option`. */
export function parseHttpUrl(value: string | URL, option: string): URL {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new TypeError(`"${option}" must be an absolute http(s) URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError(`"${option}" must be an absolute http(s) URL`);
  }
  return url;
}

/**
 * The canonical resource URI of an MCP server (MCP authorization spec, RFC 8707 §2): lower-case scheme
 * and host (done by `URL`), no fragment, no trailing slash (`https://h/` → `https://h`).
 */
export function canonicalResourceUri(serverUrl: string | URL): string {
  const url = new URL(String(serverUrl));
  url.hash = '';
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.origin}${path}${url.search}`;
}

/**
 * Whether the PRM `resource` identifies the MCP server at `serverUrl`: same origin and the resource's
 * path is the server path or a segment-aligned prefix of it (a server at `/mcp` may publish the
 * origin as its resource). Both are compared in canonical form.
 */
export function resourceMatchesServer(resource: string, serverUrl: string | URL): boolean {
  let res: URL;
  let srv: URL;
  try {
    res = new URL(canonicalResourceUri(resource));
    srv = new URL(canonicalResourceUri(serverUrl));
  } catch {
    return false;
  }
  if (res.origin !== srv.origin) return false;
  if (res.search !== '' && res.search !== srv.search) return false;
  const rp = res.pathname.replace(/\/+$/, '');
  const sp = srv.pathname.replace(/\/+$/, '');
  return rp === '' || sp === rp || sp.startsWith(`${rp}/`);
}

/**
 * RFC 9728 §3.1 well-known URLs for a resource, in the order the 2025-11-25 spec tries them: the
 * path-specific URL (only when the server URL has a path) then the root URL.
 */
export function protectedResourceMetadataUrls(serverUrl: string | URL): string[] {
  const url = new URL(String(serverUrl));
  const path = url.pathname.replace(/\/+$/, '');
  const root = `${url.origin}/.well-known/oauth-protected-resource`;
  return path === '' ? [root] : [`${root}${path}`, root];
}

/**
 * Authorization-server metadata URLs in the order of the MCP 2025-11-25 spec: for an issuer with a
 * path, RFC 8414 path insertion, OIDC path insertion, then OIDC path appending; for an issuer without
 * a path, RFC 8414 then OIDC.
 */
export function authorizationServerMetadataUrls(issuer: string | URL): string[] {
  const url = new URL(String(issuer));
  const path = url.pathname.replace(/\/+$/, '');
  if (path === '') {
    return [
      `${url.origin}/.well-known/oauth-authorization-server`,
      `${url.origin}/.well-known/openid-configuration`,
    ];
  }
  return [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}/.well-known/openid-configuration${path}`,
    `${url.origin}${path}/.well-known/openid-configuration`,
  ];
}

/** Issuer identifiers compared as RFC 8414 wants, tolerating only a trailing slash difference. */
export function sameIssuer(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

/**
 * OAuth endpoints must be HTTPS (OAuth 2.1 §1.5); plain HTTP is accepted for loopback hosts (local
 * development and tests) or when the caller opted in with `allowInsecureHttp`.
 */
export function assertSecureUrl(url: string | URL, what: string, allowInsecureHttp: boolean): URL {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch (cause) {
    throw new OAuthClientError(OAuthClientErrorCode.Discovery, `The ${what} is not a valid URL`, { cause });
  }
  if (parsed.protocol === 'https:') return parsed;
  if (parsed.protocol === 'http:' && (allowInsecureHttp || isLoopbackHost(parsed.hostname))) return parsed;
  throw new OAuthClientError(
    OAuthClientErrorCode.InsecureUrl,
    `The ${what} ${parsed.origin} must use HTTPS (plain HTTP is only accepted for loopback hosts)`,
  );
}
