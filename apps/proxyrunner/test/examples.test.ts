/** Every RunConfig under examples/ is valid, and the policy files they reference parse. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { buildChain, loadRunConfigFile, resolveSecrets, validateRunConfig } from '@bastion-mcp/runner';
import { readExample } from './helpers/examples.js';
import { EXAMPLES } from './helpers/runner-process.js';

const files = readdirSync(EXAMPLES).filter((f) => /\.(json|ya?ml)$/.test(f));

describe('examples/', () => {
  it('has the documented examples', () => {
    expect(files.sort()).toEqual(['anonymous.yaml', 'direct.json', 'full-chain.json', 'token-exchange.json']);
  });

  it.each(files)('%s is a valid RunConfig', async (file) => {
    const cfg = await loadRunConfigFile(join(EXAMPLES, file));
    expect(cfg.schemaVersion).toBe(1);
  });

  it('builds the full chain of full-chain.json with the demo policy', async () => {
    const raw = readExample('full-chain.json');
    const cfg = validateRunConfig({
      ...raw,
      authz: { ...raw.authz, policyFile: join(EXAMPLES, 'policies/demo.cedar') },
      audit: { enabled: true, sinks: [{ type: 'stdout' }] },
      upstreamAuth: { bearerTokenEnv: 'GITHUB_TOKEN' },
      metrics: undefined,
      telemetry: { ...raw.telemetry, prometheus: false },
    });
    const chain = await buildChain(cfg, { secrets: await resolveSecrets(cfg, { GITHUB_TOKEN: 't' }) });
    try {
      expect(chain.names).toEqual([
        'telemetry-edge',
        'audit',
        'auth',
        'tool-filter',
        'telemetry',
        'authz',
        'upstream-credential',
      ]);
    } finally {
      await Promise.allSettled(chain.middlewares.map((m) => m.close?.()));
      await chain.close();
    }
  });
});
