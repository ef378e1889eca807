/** DNS-rebinding defence shared by both reference upstreams. */
import type { IncomingMessage } from 'node:http';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function hostnameOf(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1).toLowerCase();
  const colon = hostHeader.lastIndexOf(':');
  return (colon < 0 ? hostHeader : hostHeader.slice(0, colon)).toLowerCase();
}

/** DNS-rebinding defence of a localhost server: Host (and Origin, when sent) must name a loopback host. */
export function isLocalRequest(headers: IncomingMessage['headers']): boolean {
  const host = headers.host;
  if (typeof host !== 'string' || !LOCAL_HOSTS.has(hostnameOf(host))) return false;
  const origin = headers.origin;
  if (origin === undefined) return true;
  try {
    return LOCAL_HOSTS.has(new URL(origin).hostname.toLowerCase());
  } catch {
    return false;
  }
}
