/**
 * Workload names: lower-case DNS labels (they become file names, RunConfig names and client-config
 * keys). Derived from the remote host the way the reference CLI does it: the second-to-last label
 * (`mcp.example.com` → `example`), a single-label host as-is (`localhost`), an IPv4 literal → `ip-a-b-c-d`.
 */
import { isIP } from 'node:net';

export const NAME_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function isValidName(name: string): boolean {
  return name.length <= 63 && NAME_PATTERN.test(name);
}

function sanitize(label: string): string {
  return label
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/g, '');
}

/** The default workload name for a remote URL. */
export function deriveName(remoteUrl: string | URL): string {
  const url = typeof remoteUrl === 'string' ? new URL(remoteUrl) : remoteUrl;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) === 4) return `ip-${host.replace(/\./g, '-')}`;
  if (isIP(host) === 6) return sanitize(`ip6-${host.replace(/:/g, '-')}`) || 'ip6';
  const labels = host.split('.').filter(Boolean);
  const label = labels.length >= 2 ? labels[labels.length - 2] : labels[0];
  return sanitize(label ?? '') || 'remote';
}
