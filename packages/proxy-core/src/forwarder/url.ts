/** Mapping of local request paths/queries onto the remote URL (PRODUCT.md §2.1). */

/** Join the remote URL's query with the inbound query: `<remote query>&<inbound query>`. */
export function mergeQuery(remoteSearch: string, inboundQuery: string): string {
  const remote = remoteSearch.startsWith('?') ? remoteSearch.slice(1) : remoteSearch;
  if (!remote) return inboundQuery ? `?${inboundQuery}` : '';
  return inboundQuery ? `?${remote}&${inboundQuery}` : `?${remote}`;
}

/** A request to the local endpoint `/mcp?x=1` goes to `<remote path>?<remote query>&x=1`. */
export function mapEndpointUrl(remote: URL, inboundQuery: string): URL {
  const url = new URL(remote.href);
  url.hash = '';
  url.search = mergeQuery(remote.search, inboundQuery);
  return url;
}

/** The directory part of a path: `/a/b/sse` → `/a/b/`, `/sse` → `/`. */
export function baseDir(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '/' : path.slice(0, i + 1);
}

/**
 * Legacy SSE: the upstream's `endpoint` (resolved against the remote URL) as the local path the client
 * posts to. The upstream endpoint must be on the remote origin and under the remote URL's directory;
 * returns `undefined` otherwise.
 */
export function localEndpointFor(
  upstreamEndpoint: string,
  remote: URL,
  localSsePath: string,
): string | undefined {
  let target: URL;
  try {
    target = new URL(upstreamEndpoint, remote);
  } catch {
    return undefined;
  }
  if (target.origin !== remote.origin) return undefined;
  const remoteDir = baseDir(remote.pathname);
  if (!target.pathname.startsWith(remoteDir)) return undefined;
  const rel = target.pathname.slice(remoteDir.length);
  return `${baseDir(localSsePath)}${rel}${target.search}`;
}

/**
 * Legacy SSE: the upstream URL for a message POST arriving on local `path` (under the local SSE
 * directory). Returns `undefined` when the path is outside that directory or would escape the remote
 * directory after normalisation (`..`, encoded dots).
 */
export function upstreamMessageUrl(
  remote: URL,
  localSsePath: string,
  path: string,
  inboundQuery: string,
): URL | undefined {
  const localDir = baseDir(localSsePath);
  if (!path.startsWith(localDir)) return undefined;
  const rel = path.slice(localDir.length);
  if (rel === '' || /(^|\/)(\.|%2e){1,2}(\/|$)/i.test(rel)) return undefined;
  const remoteDir = baseDir(remote.pathname);
  const url = new URL(remote.href);
  url.hash = '';
  url.pathname = `${remoteDir}${rel}`;
  if (!url.pathname.startsWith(remoteDir)) return undefined;
  url.search = inboundQuery ? `?${inboundQuery}` : '';
  return url;
}
