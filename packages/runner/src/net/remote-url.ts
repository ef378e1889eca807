/**
 * Validation of the remote MCP URL: scheme, then every address its host resolves to, plus a `lookup`
 * function for the forwarder's connections so each connection is checked at connect time.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { promisify } from 'node:util';
import { RemoteUrlRefusedError } from '../errors.js';
import { type AddressPolicyOptions, addressRefusal, classifyAddress } from './address-policy.js';

const lookupAll = promisify(dnsLookup) as (host: string, opts: { all: true }) => Promise<LookupAddress[]>;

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost') || classifyAddress(host) === 'loopback';
}

/** Check scheme, credentials and literal-address rules without DNS. Throws `RemoteUrlRefusedError`. */
export function checkRemoteUrlSyntax(raw: string, options: AddressPolicyOptions = {}): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RemoteUrlRefusedError(raw, 'not an absolute URL');
  }
  if (url.username || url.password)
    throw new RemoteUrlRefusedError(url.origin, 'credentials in the URL are not allowed');
  const host = hostOf(url);
  if (url.protocol === 'http:') {
    if (!(options.insecureLoopback && isLoopbackHost(host))) {
      throw new RemoteUrlRefusedError(
        raw,
        'https is required (plain http only for loopback with insecureLoopback)',
      );
    }
  } else if (url.protocol !== 'https:') {
    throw new RemoteUrlRefusedError(raw, `unsupported scheme ${url.protocol}`);
  }
  if (classifyAddress(host) !== undefined) {
    const why = addressRefusal(host, options);
    if (why) throw new RemoteUrlRefusedError(raw, why, host);
  }
  return url;
}

/** Resolve the host and check every address. Returns the addresses. Throws `RemoteUrlRefusedError`. */
export async function resolveAndCheckRemoteUrl(
  raw: string,
  options: AddressPolicyOptions = {},
): Promise<string[]> {
  const url = checkRemoteUrlSyntax(raw, options);
  const host = hostOf(url);
  if (classifyAddress(host) !== undefined) return [host];
  let addresses: LookupAddress[];
  try {
    addresses = await lookupAll(host, { all: true });
  } catch (err) {
    throw new RemoteUrlRefusedError(
      raw,
      `cannot resolve ${host}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  for (const a of addresses) {
    const why = addressRefusal(a.address, options);
    if (why) throw new RemoteUrlRefusedError(raw, `${host} resolves to a refused address: ${why}`, a.address);
  }
  return addresses.map((a) => a.address);
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for `net.connect`/undici `connect` options that refuses connections to addresses the
 * policy forbids — checked on every connection, after resolution, so neither DNS rebinding nor a
 * redirect to such an address gets through.
 */
export function createSafeLookup(options: AddressPolicyOptions = {}) {
  return function safeLookup(hostname: string, opts: object, callback: LookupCallback): void {
    dnsLookup(hostname, { ...(opts as object), all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const list = addresses as LookupAddress[];
      for (const a of list) {
        const why = addressRefusal(a.address, options);
        if (why) {
          const refusal = new RemoteUrlRefusedError(
            `//${hostname}`,
            why,
            a.address,
          ) as unknown as NodeJS.ErrnoException;
          return callback(refusal, []);
        }
      }
      if ((opts as { all?: boolean }).all) return callback(null, list);
      const first = list[0];
      if (!first)
        return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}
