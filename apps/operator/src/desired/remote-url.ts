/**
 * Static (no DNS) checks of a remote URL at admission time in the operator. The proxy runner repeats
 * the full check with DNS resolution at connect time; this catches the obvious cases early with a
 * condition instead of a crash-looping pod.
 */
import { isIP } from 'node:net';

export interface RemoteUrlPolicy {
  readonly allowPrivateEndpoint: boolean;
  /** Development only: allow loopback remotes (the runner runs next to the remote). */
  readonly allowLoopback: boolean;
}

function ipv4Parts(host: string): number[] | undefined {
  if (isIP(host) !== 4) return undefined;
  return host.split('.').map(Number);
}

type AddressClass = 'loopback' | 'link-local' | 'private' | 'unspecified' | 'public';

function classify(host: string): AddressClass {
  const v4 = ipv4Parts(host);
  if (v4) {
    const [a = 0, b = 0] = v4;
    if (a === 127) return 'loopback';
    if (a === 0) return 'unspecified';
    if (a === 169 && b === 254) return 'link-local';
    if (
      a === 10 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    )
      return 'private';
    return 'public';
  }
  if (isIP(host) === 6) {
    const h = host.toLowerCase();
    if (h === '::1') return 'loopback';
    if (h === '::') return 'unspecified';
    if (/^fe[89ab]/.test(h)) return 'link-local';
    if (/^f[cd]/.test(h)) return 'private';
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    if (mapped?.[1]) return classify(mapped[1]);
    // WHATWG URL parsing normalises IPv4-mapped addresses to hex: ::ffff:c0a8:101
    const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
    if (hex?.[1] && hex[2]) {
      const hi = Number.parseInt(hex[1], 16);
      const lo = Number.parseInt(hex[2], 16);
      return classify(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
    }
    return 'public';
  }
  const name = host.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return 'loopback';
  if (name === 'metadata.google.internal') return 'link-local';
  if (
    name === 'kubernetes' ||
    name.startsWith('kubernetes.default') ||
    name.endsWith('.svc') ||
    name.includes('.svc.') ||
    name.endsWith('.cluster.local') ||
    name.endsWith('.internal') ||
    name.endsWith('.local') ||
    !name.includes('.')
  )
    return 'private';
  return 'public';
}

/** Why the URL is refused, or undefined when it is acceptable. */
export function remoteUrlRefusal(raw: string, policy: RemoteUrlPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not a valid URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'only http and https are allowed';
  if (url.username || url.password)
    return 'credentials in the URL are not allowed (use externalAuthConfigRef)';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const cls = classify(host);
  if (cls === 'loopback') return policy.allowLoopback ? undefined : 'loopback addresses are never allowed';
  if (cls === 'unspecified') return 'the unspecified address is never allowed';
  if (cls === 'link-local') return 'link-local and cloud metadata addresses are never allowed';
  if (cls === 'private' && !policy.allowPrivateEndpoint)
    return `"${host}" is a private or in-cluster address; set allowPrivateEndpoint: true to allow it`;
  return undefined;
}
