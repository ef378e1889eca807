/**
 * Validation of the remote MCP URL: scheme, then every address its host resolves to, plus a `lookup`
 * function for the forwarder's connections so each connection is checked at connect time.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { RemoteUrlRefusedError, RemoteUrlUnresolvableError } from '../errors.js';
import { type AddressPolicyOptions, addressRefusal, classifyAddress } from './address-policy.js';

/**
 * The DNS lookup the checks use: `dns.lookup`'s callback signature. Injectable so that tests and
 * embedders can resolve names without the system resolver (no network needed).
 */
export type DnsLookup = (
  hostname: string,
  options: { all: true; family?: number | undefined; hints?: number | undefined },
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const systemLookup: DnsLookup = (hostname, options, callback) =>
  dnsLookup(
    hostname,
    {
      all: true,
      ...(options.family ? { family: options.family } : {}),
      ...(options.hints ? { hints: options.hints } : {}),
    },
    (err, addresses) => callback(err, addresses),
  );

function lookupAll(lookup: DnsLookup, host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) =>
    lookup(host, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))),
  );
}

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
  lookup: DnsLookup = systemLookup,
): Promise<string[]> {
  const url = checkRemoteUrlSyntax(raw, options);
  const host = hostOf(url);
  if (classifyAddress(host) !== undefined) return [host];
  let addresses: LookupAddress[];
  try {
    addresses = await lookupAll(lookup, host);
  } catch (err) {
    throw new RemoteUrlUnresolvableError(raw, host, (err as NodeJS.ErrnoException).code, { cause: err });
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
export function createSafeLookup(options: AddressPolicyOptions = {}, lookup: DnsLookup = systemLookup) {
  return function safeLookup(hostname: string, opts: object, callback: LookupCallback): void {
    const o = opts as { family?: number; hints?: number };
    const family = typeof o.family === 'number' && o.family !== 0 ? o.family : undefined;
    lookup(hostname, { all: true, family, hints: o.hints }, (err, list) => {
      if (err) return callback(err, []);
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
