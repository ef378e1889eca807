import { describe, expect, it } from '@jest/globals';
import { TrustedProxies } from '../src/source.js';

describe('TrustedProxies.clientIp', () => {
  it('ignores X-Forwarded-For when the peer is not a trusted proxy (the header is client-controlled)', () => {
    const t = new TrustedProxies(['10.0.0.0/8']);
    expect(t.clientIp('203.0.113.5', '198.51.100.1')).toBe('203.0.113.5');
    expect(new TrustedProxies([]).clientIp('127.0.0.1', '198.51.100.1')).toBe('127.0.0.1');
  });

  it('walks X-Forwarded-For from the right, skipping trusted hops, and never trusts a forged left part', () => {
    const t = new TrustedProxies(['10.0.0.0/8', '192.168.1.1']);
    expect(t.clientIp('10.0.0.2', '203.0.113.9, 10.0.0.1')).toBe('203.0.113.9');
    // The client put a fake entry first; the first untrusted hop from the right is the real client.
    expect(t.clientIp('10.0.0.2', '1.1.1.1, 203.0.113.9, 192.168.1.1')).toBe('203.0.113.9');
    expect(t.clientIp('10.0.0.2', ['1.1.1.1', '203.0.113.7'])).toBe('203.0.113.7');
  });

  it('returns the leftmost hop when every hop is trusted, and stops at garbage', () => {
    const t = new TrustedProxies(['10.0.0.0/8']);
    expect(t.clientIp('10.0.0.2', '10.1.1.1, 10.0.0.1')).toBe('10.1.1.1');
    expect(t.clientIp('10.0.0.2', 'not-an-ip, 10.0.0.1')).toBe('10.0.0.1');
  });

  it('handles IPv6 CIDRs, IPv4-mapped peers and ports', () => {
    const t = new TrustedProxies(['::1', 'fd00::/8', '127.0.0.1']);
    expect(t.clientIp('::1', '2001:db8::7')).toBe('2001:db8::7');
    expect(t.clientIp('fd00::12', '[2001:db8::8]:443')).toBe('2001:db8::8');
    expect(t.clientIp('::ffff:127.0.0.1', '203.0.113.1:5555')).toBe('203.0.113.1');
    expect(t.clientIp(' 127.0.0.1 ', ' 203.0.113.2 ')).toBe('203.0.113.2');
    expect(new TrustedProxies(['2001:db8::1']).clientIp('[2001:db8::1]', '[2001:db8::9]')).toBe(
      '2001:db8::9',
    );
  });

  it('rejects invalid entries with a TypeError naming the option', () => {
    expect(() => new TrustedProxies(['10.0.0.0/33'])).toThrow(/"trustedProxies".*prefix/);
    expect(() => new TrustedProxies(['example.com'])).toThrow(/"trustedProxies" entry "example.com"/);
    expect(() => new TrustedProxies(['10.0.0.0/8/1'])).toThrow(TypeError);
  });
});
