/** RFC 9728 protected-resource metadata: fetch, validate, and the well-known fallback order. */
import { OAuthClientError, OAuthClientErrorCode } from './errors.js';
import { type HttpContext, httpRequest, readJsonObject, stringArray } from './internal/http.js';
import { assertSecureUrl, protectedResourceMetadataUrls, resourceMatchesServer } from './internal/url.js';

export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported?: string[] | undefined;
  bearer_methods_supported?: string[] | undefined;
  resource_name?: string | undefined;
  [key: string]: unknown;
}

export interface PrmAttempt {
  url: string;
  /** HTTP status, or the reason the document was skipped. */
  outcome: number | 'invalid-document' | 'not-json';
}

/**
 * Fetches one PRM document. Returns `undefined` (with the reason in `attempts`) when the URL does not
 * serve a valid document; throws on network errors and on a `resource` that does not match the server.
 */
export async function fetchProtectedResourceMetadata(
  metadataUrl: string,
  serverUrl: string,
  ctx: HttpContext & { allowInsecureHttp: boolean },
  attempts: PrmAttempt[],
): Promise<ProtectedResourceMetadata | undefined> {
  assertSecureUrl(metadataUrl, 'protected resource metadata URL', ctx.allowInsecureHttp);
  const res = await httpRequest(
    metadataUrl,
    { method: 'GET', headers: { accept: 'application/json' } },
    ctx,
    `protected resource metadata request to ${metadataUrl}`,
  );
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => {});
    attempts.push({ url: metadataUrl, outcome: res.status });
    return undefined;
  }
  const doc = await readJsonObject(res);
  if (!doc) {
    attempts.push({ url: metadataUrl, outcome: 'not-json' });
    return undefined;
  }
  const servers = stringArray(doc['authorization_servers']);
  if (typeof doc['resource'] !== 'string' || !servers || servers.length === 0) {
    attempts.push({ url: metadataUrl, outcome: 'invalid-document' });
    return undefined;
  }
  if (!resourceMatchesServer(doc['resource'], serverUrl)) {
    throw new OAuthClientError(
      OAuthClientErrorCode.ResourceMismatch,
      `The protected resource metadata at ${metadataUrl} names resource ${doc['resource']}, which does not match ${serverUrl} (RFC 9728 §3.3)`,
    );
  }
  return {
    ...doc,
    resource: doc['resource'],
    authorization_servers: servers,
    scopes_supported: stringArray(doc['scopes_supported']),
    bearer_methods_supported: stringArray(doc['bearer_methods_supported']),
  };
}

/**
 * Finds the PRM of `serverUrl`: the challenge's `resource_metadata` URL first (when given), then the
 * path-specific and root well-known URLs. Returns the document and the URL it came from.
 */
export async function discoverProtectedResource(
  serverUrl: string,
  challengeUrl: string | undefined,
  ctx: HttpContext & { allowInsecureHttp: boolean },
): Promise<{ metadata: ProtectedResourceMetadata; url: string }> {
  const attempts: PrmAttempt[] = [];
  const found = await findProtectedResource(serverUrl, challengeUrl, ctx, attempts);
  if (found) return found;
  throw noProtectedResourceError(serverUrl, attempts);
}

/**
 * Like `discoverProtectedResource`, but resolves `undefined` when no candidate URL serves a valid
 * document (every URL and its outcome are appended to `attempts`).
 */
export async function findProtectedResource(
  serverUrl: string,
  challengeUrl: string | undefined,
  ctx: HttpContext & { allowInsecureHttp: boolean },
  attempts: PrmAttempt[],
): Promise<{ metadata: ProtectedResourceMetadata; url: string } | undefined> {
  const candidates = [...(challengeUrl ? [new URL(challengeUrl, serverUrl).href] : [])];
  for (const url of protectedResourceMetadataUrls(serverUrl))
    if (!candidates.includes(url)) candidates.push(url);
  for (const url of candidates) {
    const metadata = await fetchProtectedResourceMetadata(url, serverUrl, ctx, attempts);
    if (metadata) return { metadata, url };
  }
  return undefined;
}

/**
 * True when every attempt answered 404 or 410: the server publishes no PRM at all (a 2025-03-26
 * server). An invalid document, a non-JSON answer or any other status is not "absent".
 */
export function protectedResourceAbsent(attempts: readonly PrmAttempt[]): boolean {
  return attempts.length > 0 && attempts.every((a) => a.outcome === 404 || a.outcome === 410);
}

export function noProtectedResourceError(
  serverUrl: string,
  attempts: readonly PrmAttempt[],
): OAuthClientError {
  const tried = attempts.map((a) => `${a.url} (${a.outcome})`).join(', ');
  return new OAuthClientError(
    OAuthClientErrorCode.Discovery,
    `No protected resource metadata found for ${serverUrl}; tried ${tried}`,
  );
}
