/**
 * Which network addresses a remote MCP endpoint may resolve to (SSRF defence). Checked on the URL,
 * after DNS resolution, and at connect time for every connection (so DNS rebinding and redirects to a
 * refused address cannot slip through).
 */
import { BlockList, isIP } from 'node:net';

export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'metadata'
  | 'unspecified'
  | 'multicast'
  | 'reserved';

export interface AddressPolicyOptions {
  /** Allow plain-http and loopback remotes (127.0.0.0/8, ::1). For development and tests only. Default false. */
  insecureLoopback?: boolean | undefined;
  /** Allow private-range remotes (RFC 1918, CGNAT, ULA). Default false. */
  allowPrivateEndpoint?: boolean | undefined;
}

function list(
  entries: Array<[string, number, 'ipv4' | 'ipv6']>,
  addresses: Array<[string, 'ipv4' | 'ipv6']> = [],
): BlockList {
  const b = new BlockList();
  for (const [net, prefix, type] of entries) b.addSubnet(net, prefix, type);
  for (const [a, type] of addresses) b.addAddress(a, type);
  return b;
}

const METADATA = list(
  [],
  [
    ['169.254.169.254', 'ipv4'], // AWS, GCP, Azure, OpenStack
    ['169.254.170.2', 'ipv4'], // AWS ECS task metadata
    ['100.100.100.200', 'ipv4'], // Alibaba Cloud
    ['fd00:ec2::254', 'ipv6'], // AWS IMDS over IPv6
  ],
);
const UNSPECIFIED = list([
  ['0.0.0.0', 8, 'ipv4'],
  ['::', 128, 'ipv6'],
]);
const LOOPBACK = list([
  ['127.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
]);
const LINK_LOCAL = list([
  ['169.254.0.0', 16, 'ipv4'],
  ['fe80::', 10, 'ipv6'],
]);
const MULTICAST = list([
  ['224.0.0.0', 4, 'ipv4'],
  ['ff00::', 8, 'ipv6'],
]);
const PRIVATE = list([
  ['10.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['fc00::', 7, 'ipv6'],
]);
const RESERVED = list([
  ['192.0.0.0', 24, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['255.255.255.255', 32, 'ipv4'],
  ['64:ff9b::', 96, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'],
]);

/** Unwrap IPv4-mapped IPv6 (`::ffff:10.0.0.1`) so it is judged as the IPv4 address it is. */
function normalise(address: string): { address: string; type: 'ipv4' | 'ipv6' } | undefined {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped?.[1]) return { address: mapped[1], type: 'ipv4' };
  const v = isIP(bare);
  if (v === 4) return { address: bare, type: 'ipv4' };
  if (v === 6) return { address: bare, type: 'ipv6' };
  return undefined;
}

/** Classify an IP address literal. Returns `undefined` when it is not an IP address. */
export function classifyAddress(address: string): AddressClass | undefined {
  const n = normalise(address);
  if (!n) return undefined;
  const { address: a, type } = n;
  if (METADATA.check(a, type)) return 'metadata';
  if (UNSPECIFIED.check(a, type)) return 'unspecified';
  if (LOOPBACK.check(a, type)) return 'loopback';
  if (LINK_LOCAL.check(a, type)) return 'link-local';
  if (MULTICAST.check(a, type)) return 'multicast';
  if (PRIVATE.check(a, type)) return 'private';
  if (RESERVED.check(a, type)) return 'reserved';
  return 'public';
}

/** Why an address is refused under the policy, or `undefined` when it is allowed. */
export function addressRefusal(address: string, options: AddressPolicyOptions = {}): string | undefined {
  const cls = classifyAddress(address);
  switch (cls) {
    case undefined:
      return 'not an IP address';
    case 'public':
      return undefined;
    case 'loopback':
      return options.insecureLoopback || options.allowPrivateEndpoint
        ? undefined
        : 'loopback address (set insecureLoopback for local development)';
    case 'private':
      return options.allowPrivateEndpoint
        ? undefined
        : 'private-range address (set allowPrivateEndpoint to allow it)';
    case 'metadata':
      return 'cloud metadata address';
    case 'link-local':
      return 'link-local address';
    case 'unspecified':
      return 'unspecified address';
    case 'multicast':
      return 'multicast address';
    case 'reserved':
      return 'reserved address';
  }
}
