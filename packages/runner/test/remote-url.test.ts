import { describe, expect, it } from '@jest/globals';
import { addressRefusal, classifyAddress } from '../src/net/address-policy.js';
import { checkRemoteUrlSyntax, createSafeLookup, resolveAndCheckRemoteUrl } from '../src/net/remote-url.js';

describe('classifyAddress', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.20.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fd12::1', 'private'],
    ['169.254.169.254', 'metadata'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['::ffff:10.0.0.1', 'private'],
  ])('%s is %s', (address, cls) => {
    expect(classifyAddress(address)).toBe(cls);
  });
});

describe('addressRefusal', () => {
  it('refuses metadata even when private endpoints are allowed', () => {
    expect(addressRefusal('169.254.169.254', { allowPrivateEndpoint: true, insecureLoopback: true })).toMatch(
      /metadata/,
    );
  });
  it('allows private ranges only with allowPrivateEndpoint', () => {
    expect(addressRefusal('10.0.0.5')).toMatch(/allowPrivateEndpoint/);
    expect(addressRefusal('10.0.0.5', { allowPrivateEndpoint: true })).toBeUndefined();
  });
});

describe('checkRemoteUrlSyntax', () => {
  it('requires https except loopback with insecureLoopback', () => {
    expect(() => checkRemoteUrlSyntax('http://mcp.example.com/mcp')).toThrow(/https is required/);
    expect(() => checkRemoteUrlSyntax('http://127.0.0.1:9/mcp')).toThrow(/https is required/);
    expect(checkRemoteUrlSyntax('http://127.0.0.1:9/mcp', { insecureLoopback: true }).port).toBe('9');
    expect(() => checkRemoteUrlSyntax('ftp://x.example.com/')).toThrow(/unsupported scheme/);
  });
  it('refuses credentials in the URL without echoing them', () => {
    try {
      checkRemoteUrlSyntax('https://user:hunter2@mcp.example.com/mcp');
      throw new Error('expected refusal');
    } catch (err) {
      expect((err as Error).message).toMatch(/credentials/);
      expect((err as Error).message).not.toContain('hunter2');
    }
  });
  it('refuses literal metadata and link-local addresses', () => {
    expect(() => checkRemoteUrlSyntax('https://169.254.169.254/latest')).toThrow(/metadata/);
    expect(() => checkRemoteUrlSyntax('https://[fe80::1]/mcp')).toThrow(/link-local/);
  });
});

describe('resolveAndCheckRemoteUrl', () => {
  it('checks the addresses a DNS name resolves to', async () => {
    // "localhost" resolves to a loopback address through the system resolver (no network needed).
    await expect(resolveAndCheckRemoteUrl('https://localhost/mcp')).rejects.toThrow(
      /resolves to a refused address/,
    );
    await expect(
      resolveAndCheckRemoteUrl('https://localhost/mcp', { insecureLoopback: true }),
    ).resolves.toEqual(expect.arrayContaining([expect.stringMatching(/127\.0\.0\.1|::1/)]));
  });
});

describe('createSafeLookup', () => {
  it('fails a connection lookup to a refused address', async () => {
    const lookup = createSafeLookup({});
    const err = await new Promise<unknown>((resolve) => lookup('localhost', {}, (e) => resolve(e)));
    expect((err as { code?: string }).code).toBe('ERR_BASTION_REMOTE_URL_REFUSED');
  });
  it('returns the address when allowed', async () => {
    const lookup = createSafeLookup({ insecureLoopback: true });
    const address = await new Promise<unknown>((resolve) => lookup('localhost', {}, (_e, a) => resolve(a)));
    expect(String(address)).toMatch(/127\.0\.0\.1|::1/);
  });
});
