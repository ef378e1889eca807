// Benchmark proxy with the full canonical chain, started through the runner (`startProxy`, the proxy
// runner's code path) in front of argv[2]: JWT validation against a local JWKS, a Cedar policy, audit
// events to a file, a tool filter and telemetry (Prometheus metrics on an ephemeral port). Reports its
// URL and a bearer token for an allowed user.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProxy, validateRunConfig } from '@bastion-mcp/runner';
import { startJwtIssuer } from '../lib/jwt-issuer.mjs';
import { reportReady } from '../lib/spawn.mjs';

const AUDIENCE = 'https://bench.bastion.test/mcp';
const issuer = await startJwtIssuer();
const dir = mkdtempSync(join(tmpdir(), 'bastion-bench-'));
const config = validateRunConfig({
  schemaVersion: 1,
  name: 'bench',
  remoteUrl: process.argv[2],
  insecureLoopback: true,
  listen: { host: '127.0.0.1', port: 0 },
  metrics: { host: '127.0.0.1', port: 0 },
  auth: { mode: 'oidc', issuer: issuer.issuer, audience: AUDIENCE, resourceUrl: AUDIENCE },
  tools: { filter: ['echo', 'add', 'weather'], overrides: { get_weather: { name: 'weather' } } },
  authz: {
    policies: [
      '@id("engineering") permit (principal in Group::"engineering", action == Action::"call_tool", resource);',
      '@id("no-delete") forbid (principal, action == Action::"call_tool", resource == Tool::"delete_repo");',
    ],
  },
  audit: { enabled: true, sinks: [{ type: 'file', path: join(dir, 'audit.jsonl') }] },
  telemetry: { serviceName: 'bastion-bench' },
});
const proxy = await startProxy(config, { env: {} });
const token = await issuer.mint({ sub: 'bench-user', groups: ['engineering'] }, AUDIENCE);
reportReady({ url: proxy.url, token, chain: proxy.chain });
process.on('SIGTERM', async () => {
  await proxy.close({ graceMs: 1000 });
  await issuer.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
});
