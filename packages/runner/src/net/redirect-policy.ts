/**
 * Which upstream redirects the forwarder may follow. Only same-origin redirects (scheme, host and
 * port unchanged) whose address passes the SSRF rules: a cross-origin redirect would hand the
 * upstream credential (static bearer, exchanged token, forwarded secret headers) to another host,
 * and a redirect to a link-local, metadata or private address is what SSRF looks like. proxy-core
 * only follows 307/308 and answers every refused redirect with 502.
 */
import type { Exchange } from '@bastion-mcp/proxy-core';
import { RemoteUrlRefusedError } from '../errors.js';
import type { AddressPolicyOptions } from './address-policy.js';
import { type DnsLookup, resolveAndCheckRemoteUrl } from './remote-url.js';

export function createRedirectCheck(
  remoteUrl: string,
  policy: AddressPolicyOptions,
  lookup?: DnsLookup,
): (location: URL, exchange: Exchange) => Promise<boolean> {
  const origin = new URL(remoteUrl).origin;
  return async (location, exchange) => {
    if (location.origin !== origin) {
      exchange.log.warn(
        { requestId: exchange.requestId, location: location.origin },
        'upstream redirect to another origin refused',
      );
      return false;
    }
    try {
      await resolveAndCheckRemoteUrl(location.href, policy, lookup);
      return true;
    } catch (err) {
      if (!(err instanceof RemoteUrlRefusedError)) throw err;
      exchange.log.warn(
        { requestId: exchange.requestId, reason: err.reason, address: err.address },
        'upstream redirect refused',
      );
      return false;
    }
  };
}
