// Benchmark proxy with the canonical chain, started through the runner (`startProxy`, the proxy
// runner's code path) in front of argv[2]: JWT validation against a local JWKS, a Cedar policy, audit
// events to a file, a tool filter and telemetry (Prometheus metrics on an ephemeral port). argv[3]
// optionally names a subset of those layers (comma-separated: auth,audit,tools,telemetry,authz; "none"
// for the runner's chain with anonymous auth only). Reports its URL and a bearer token for an allowed user.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProxy } from '@bastion-mcp/runner';
import { ALL_LAYERS, AUDIENCE, benchRunConfig } from '../lib/chain-config.mjs';
import { startJwtIssuer } from '../lib/jwt-issuer.mjs';
import { reportReady } from '../lib/spawn.mjs';

const layerArg = process.argv[3];
const layers =
  layerArg === undefined ? ALL_LAYERS : layerArg === 'none' ? [] : layerArg.split(',').filter(Boolean);
const issuer = await startJwtIssuer();
const dir = mkdtempSync(join(tmpdir(), 'bastion-bench-'));
const config = benchRunConfig({ remoteUrl: process.argv[2], issuer: issuer.issuer, dir, layers });
const proxy = await startProxy(config, { env: {} });
const token = await issuer.mint({ sub: 'bench-user', groups: ['engineering'] }, AUDIENCE);
reportReady({ url: proxy.url, token, chain: proxy.chain }, proxy.server.server);
process.on('SIGTERM', async () => {
  await proxy.close({ graceMs: 1000 });
  await issuer.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
});
