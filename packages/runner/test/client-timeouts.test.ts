/**
 * RunConfig `limits.clientHeadersTimeoutMs` / `clientRequestTimeoutMs` reach the proxy's node:http
 * server (slowloris protection), and proxy-core's defaults apply when they are absent.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type McpUpstream, startMcpUpstream } from '@bastion-mcp/testkit';
import { type RunConfigInput, startProxy, validateRunConfig } from '../src/index.js';

let upstream: McpUpstream;

beforeAll(async () => {
  upstream = await startMcpUpstream({ stateless: true, jsonResponse: true });
});

afterAll(async () => {
  await upstream?.close();
});

const config = (limits: RunConfigInput['limits'] = {}) =>
  validateRunConfig({
    schemaVersion: 1,
    name: 'timeouts',
    remoteUrl: upstream.url,
    insecureLoopback: true,
    listen: { port: 0 },
    auth: { mode: 'anonymous' },
    limits,
  });

describe('startProxy inbound client timeouts', () => {
  it('passes the configured values to the server', async () => {
    const proxy = await startProxy(config({ clientHeadersTimeoutMs: 4_000, clientRequestTimeoutMs: 12_000 }));
    try {
      expect(proxy.server.server.headersTimeout).toBe(4_000);
      expect(proxy.server.server.requestTimeout).toBe(12_000);
    } finally {
      await proxy.close({ graceMs: 0 });
    }
  });

  it('keeps proxy-core defaults when unset', async () => {
    const proxy = await startProxy(config());
    try {
      expect(proxy.server.server.headersTimeout).toBe(10_000);
      expect(proxy.server.server.requestTimeout).toBe(30_000);
    } finally {
      await proxy.close({ graceMs: 0 });
    }
  });
});
