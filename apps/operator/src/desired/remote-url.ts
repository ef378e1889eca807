/**
 * Static (no DNS) checks of a remote URL at admission time in the operator. The proxy runner repeats
 * the full check with DNS resolution at connect time; this catches the obvious cases early with a
 * condition instead of a crash-looping pod.
 */
import { classifyAddress } from '@bastion-mcp/runner';

export interface RemoteUrlPolicy {
  readonly allowPrivateEndpoint: boolean;
  /** Development only: allow loopback remotes (the runner runs next to the remote). */
  readonly allowLoopback: boolean;
}

type AddressClass = 'loopback' | 'link-local' | 'private' | 'unspecified' | 'public';

/** IP literals are classified by the runner's address policy (one set of rules); names here. */
function classify(host: string): AddressClass {
  const ip = classifyAddress(host);
  if (ip !== undefined) {
    if (ip === 'metadata' || ip === 'link-local') return 'link-local';
    if (ip === 'multicast' || ip === 'reserved') return 'unspecified';
    return ip;
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
