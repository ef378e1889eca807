/**
 * DNS-rebinding defence: Host and Origin allow-lists.
 *
 * Defaults when no list is configured:
 * - Host: any, except when the server listens on a loopback address; then only loopback names
 *   (`localhost`, `127.x.x.x`, `[::1]`) are accepted, so a rebinding domain cannot reach the proxy.
 * - Origin: requests without `Origin` pass (non-browser clients); a same-origin `Origin` (equal to
 *   `http(s)://<Host>`) passes; when listening on loopback, an `Origin` whose host is loopback passes.
 *   Any other `Origin` is refused.
 */
import { isIP } from 'node:net';

export function isLoopbackHostname(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (h.startsWith('::ffff:')) return h.slice(7).startsWith('127.');
  return false;
}

/** Hostname of a Host header value (`a.b:80` → `a.b`, `[::1]:80` → `[::1]`). */
export function hostnameOf(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end < 0 ? h : h.slice(0, end + 1);
  }
  const colon = h.indexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

export interface OriginPolicy {
  allowedOrigins: ReadonlySet<string> | undefined;
  allowedHosts: readonly string[] | undefined;
  loopback: boolean;
}

export function createOriginPolicy(
  allowedOrigins: readonly string[] | undefined,
  allowedHosts: readonly string[] | undefined,
  listenHost: string,
): OriginPolicy {
  if (
    allowedOrigins !== undefined &&
    (!Array.isArray(allowedOrigins) || allowedOrigins.some((o) => typeof o !== 'string'))
  ) {
    throw new TypeError('"allowedOrigins" must be an array of origins');
  }
  if (
    allowedHosts !== undefined &&
    (!Array.isArray(allowedHosts) || allowedHosts.some((o) => typeof o !== 'string'))
  ) {
    throw new TypeError('"allowedHosts" must be an array of host names');
  }
  return {
    allowedOrigins: allowedOrigins
      ? new Set(allowedOrigins.map((o) => o.toLowerCase().replace(/\/+$/, '')))
      : undefined,
    allowedHosts: allowedHosts?.map((h) => h.toLowerCase()),
    loopback: isLoopbackHostname(listenHost),
  };
}

export function hostAllowed(policy: OriginPolicy, host: string | undefined): boolean {
  if (policy.allowedHosts) {
    if (host === undefined) return false;
    const h = host.trim().toLowerCase();
    const name = hostnameOf(h);
    return policy.allowedHosts.some((a) => a === '*' || a === h || a === name);
  }
  if (!policy.loopback) return true;
  return host !== undefined && isLoopbackHostname(hostnameOf(host));
}

export function originAllowed(
  policy: OriginPolicy,
  origin: string | undefined,
  host: string | undefined,
): boolean {
  if (origin === undefined) return true;
  const o = origin.trim().toLowerCase();
  if (policy.allowedOrigins) return policy.allowedOrigins.has('*') || policy.allowedOrigins.has(o);
  let parsed: URL;
  try {
    parsed = new URL(o);
  } catch {
    return false;
  }
  if (host !== undefined && parsed.host === host.trim().toLowerCase()) return true;
  return policy.loopback && isLoopbackHostname(parsed.hostname);
}
