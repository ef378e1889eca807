/** Client address resolution honouring a list of trusted proxies for X-Forwarded-For. */
import { BlockList, isIP } from 'node:net';

function normalise(address: string): string {
  const a = address.trim();
  // A plain IPv4 address (the usual peer) has neither ':' nor '[': none of the forms below applies.
  if (!a.includes(':') && !a.includes('[')) return a;
  // IPv4-mapped IPv6 (`::ffff:10.0.0.1`) as node reports it for dual-stack sockets.
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(a);
  if (mapped?.[1]) return mapped[1];
  // `[::1]:1234` or `1.2.3.4:5678` forms some proxies write.
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
  if (bracketed?.[1]) return bracketed[1];
  const v4port = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(a);
  if (v4port?.[1]) return v4port[1];
  return a;
}

/** A compiled trusted-proxy list. */
export class TrustedProxies {
  readonly #list = new BlockList();
  readonly #empty: boolean;

  /** @param entries IPs or CIDRs (`10.0.0.0/8`, `::1`, `fd00::/8`). Throws `TypeError` on a bad entry. */
  constructor(entries: readonly string[]) {
    this.#empty = entries.length === 0;
    for (const entry of entries) {
      if (typeof entry !== 'string') throw new TypeError('"trustedProxies" entries must be strings');
      const [ip, bits, extra] = entry.trim().split('/');
      const family = ip ? isIP(ip) : 0;
      if (!ip || family === 0 || extra !== undefined) {
        throw new TypeError(`"trustedProxies" entry "${entry}" is not an IP address or CIDR`);
      }
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) {
        this.#list.addAddress(ip, type);
        continue;
      }
      const prefix = Number(bits);
      if (!/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128)) {
        throw new TypeError(`"trustedProxies" entry "${entry}" has an invalid prefix length`);
      }
      this.#list.addSubnet(ip, prefix, type);
    }
  }

  isTrusted(address: string): boolean {
    if (this.#empty) return false;
    const a = normalise(address);
    const family = isIP(a);
    if (family === 0) return false;
    return this.#list.check(a, family === 4 ? 'ipv4' : 'ipv6');
  }

  /**
   * The client IP: the TCP peer unless the peer is a trusted proxy, in which case X-Forwarded-For is
   * walked from the right, skipping trusted hops; the first untrusted hop is the client. Entries a
   * client could have forged (left of the first untrusted hop) are never used.
   */
  clientIp(peer: string, forwardedFor: string | string[] | undefined): string {
    const peerIp = normalise(peer);
    if (!this.isTrusted(peerIp) || forwardedFor === undefined) return peerIp;
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
      .split(',')
      .map((h) => normalise(h))
      .filter((h) => h.length > 0);
    let candidate = peerIp;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i] as string;
      if (isIP(hop) === 0) return candidate; // garbage: stop at the last trustworthy answer
      candidate = hop;
      if (!this.isTrusted(hop)) return hop;
    }
    return candidate;
  }
}
