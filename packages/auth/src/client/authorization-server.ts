/**
 * Authorization-server metadata discovery in the MCP 2025-11-25 order (RFC 8414 and OpenID Connect
 * Discovery, path insertion before path appending), with RFC 8414 §3.3 issuer validation.
 */
import type { ServerMetadata } from 'openid-client';
import { OAuthClientError, OAuthClientErrorCode } from './errors.js';
import { type HttpContext, httpRequest, readJsonObject } from './internal/http.js';
import { assertSecureUrl, authorizationServerMetadataUrls, sameIssuer } from './internal/url.js';

/** AS metadata as discovered (RFC 8414 names); unknown members are kept. */
export type AuthorizationServerMetadata = ServerMetadata & {
  issuer: string;
  token_endpoint: string;
};

export interface OAuthWarning {
  code: string;
  message: string;
}

export interface AuthorizationServerDiscoveryOptions {
  /**
   * Accept a metadata document whose `issuer` differs from the issuer it was discovered for (some
   * providers publish a different issuer). Off by default; each acceptance is reported via `onWarning`.
   */
  allowIssuerMismatch?: boolean | undefined;
  onWarning?: ((warning: OAuthWarning) => void) | undefined;
}

/** One metadata URL tried: its HTTP status, or why its document was skipped. */
export interface AsMetadataAttempt {
  url: string;
  outcome: number | 'invalid-document';
}

/** Discovers and validates the metadata of the AS with issuer identifier `issuer`. */
export async function discoverAuthorizationServer(
  issuer: string,
  ctx: HttpContext & { allowInsecureHttp: boolean },
  options: AuthorizationServerDiscoveryOptions = {},
): Promise<AuthorizationServerMetadata> {
  const attempts: AsMetadataAttempt[] = [];
  const metadata = await findAuthorizationServerMetadata(issuer, ctx, options, attempts);
  if (metadata) return metadata;
  const tried = attempts.map(
    (a) => `${a.url} (${a.outcome === 'invalid-document' ? 'invalid document' : a.outcome})`,
  );
  throw new OAuthClientError(
    OAuthClientErrorCode.Discovery,
    `No authorization server metadata found for issuer ${issuer}; tried ${tried.join(', ')}`,
  );
}

/**
 * Like `discoverAuthorizationServer`, but resolves `undefined` when no URL serves a usable document
 * (each URL and its outcome are appended to `attempts`). Issuer mismatches, insecure endpoints and
 * network errors still throw.
 */
export async function findAuthorizationServerMetadata(
  issuer: string,
  ctx: HttpContext & { allowInsecureHttp: boolean },
  options: AuthorizationServerDiscoveryOptions,
  attempts: AsMetadataAttempt[],
): Promise<AuthorizationServerMetadata | undefined> {
  assertSecureUrl(issuer, 'authorization server issuer', ctx.allowInsecureHttp);
  for (const url of authorizationServerMetadataUrls(issuer)) {
    const res = await httpRequest(
      url,
      { method: 'GET', headers: { accept: 'application/json' } },
      ctx,
      `authorization server metadata request to ${url}`,
    );
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {});
      attempts.push({ url, outcome: res.status });
      continue;
    }
    const doc = await readJsonObject(res);
    if (!doc || typeof doc['issuer'] !== 'string' || typeof doc['token_endpoint'] !== 'string') {
      attempts.push({ url, outcome: 'invalid-document' });
      continue;
    }
    if (!sameIssuer(doc['issuer'], issuer)) {
      if (!options.allowIssuerMismatch) {
        throw new OAuthClientError(
          OAuthClientErrorCode.IssuerMismatch,
          `The authorization server metadata at ${url} has issuer ${doc['issuer']}, expected ${issuer} (RFC 8414 §3.3); enable the issuer-mismatch compatibility switch only if you trust this server`,
        );
      }
      options.onWarning?.({
        code: OAuthClientErrorCode.IssuerMismatch,
        message: `Accepted authorization server metadata at ${url} with issuer ${doc['issuer']} instead of ${issuer} (issuer-mismatch compatibility switch)`,
      });
    }
    for (const key of [
      'token_endpoint',
      'authorization_endpoint',
      'registration_endpoint',
      'device_authorization_endpoint',
    ]) {
      const value = doc[key];
      if (typeof value === 'string')
        assertSecureUrl(value, `authorization server ${key}`, ctx.allowInsecureHttp);
    }
    return doc as AuthorizationServerMetadata;
  }
  return undefined;
}

/** Refuses an AS that does not advertise PKCE S256 (MCP 2025-11-25: clients MUST refuse). */
export function assertS256(metadata: AuthorizationServerMetadata): void {
  const methods = metadata.code_challenge_methods_supported;
  if (!Array.isArray(methods) || !methods.includes('S256')) {
    throw new OAuthClientError(
      OAuthClientErrorCode.NoS256,
      `The authorization server ${metadata.issuer} does not advertise PKCE S256 in code_challenge_methods_supported; refusing to log in (RFC 7636, MCP authorization spec)`,
    );
  }
}
