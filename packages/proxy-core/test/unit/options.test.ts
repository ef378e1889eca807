import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import {
  createForwarder,
  createProxyHandler,
  ProxyCoreErrorCode,
  startProxyServer,
} from '../../src/index.js';

describe('option validation', () => {
  it('throws TypeError naming the option', async () => {
    expect(() => createProxyHandler({ upstreamUrl: 'ftp://x/mcp' })).toThrow(/"upstreamUrl"/);
    expect(() => createProxyHandler({ upstreamUrl: 'http://x/mcp', limits: { maxBodyBytes: 0 } })).toThrow(
      /"limits\.maxBodyBytes"/,
    );
    expect(() => createProxyHandler({ upstreamUrl: 'http://x/mcp', path: 'mcp' })).toThrow(/"path"/);
    expect(() =>
      createProxyHandler({ upstreamUrl: 'http://x/mcp', transport: 'ws' as unknown as 'sse' }),
    ).toThrow(/"transport"/);
    expect(() =>
      createProxyHandler({ upstreamUrl: 'http://x/mcp', upstream: { headersTimeoutMs: -1 } }),
    ).toThrow(/"upstream\.headersTimeoutMs"/);
    expect(() =>
      createProxyHandler({ upstreamUrl: 'http://x/mcp', allowedOrigins: 'x' as unknown as string[] }),
    ).toThrow(/"allowedOrigins"/);
    expect(() => createForwarder({ upstreamUrl: 'not a url' })).toThrow(/"upstreamUrl"/);
    await expect(startProxyServer({ upstreamUrl: 'http://x/mcp', port: 70000 })).rejects.toThrow(/"port"/);
  });
});

describe('error codes', () => {
  it('documents every proxy-core error code in the README', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const code of Object.values(ProxyCoreErrorCode)) {
      expect([code, readme.includes(`\`${code.replace('ERR_BASTION_PROXY_', '')}\``)]).toEqual([code, true]);
    }
  });
});
