// The RunConfig of the benchmark's full chain, and variants with only some of its layers, so the CPU
// cost of each layer can be measured on its own (bench/cpu.mjs).
//
// Layers: auth (JWT via JWKS; without it the runner's anonymous auth is used), audit (file sink),
// tools (filter + one rename), telemetry (traces + Prometheus metrics), authz (Cedar; needs auth for
// the group the policy permits).
import { join } from 'node:path';
import { validateRunConfig } from '@bastion-mcp/runner';

export const AUDIENCE = 'https://bench.bastion.test/mcp';
export const ALL_LAYERS = ['auth', 'audit', 'tools', 'telemetry', 'authz'];

/**
 * @param {{ remoteUrl: string, issuer: string, dir: string, layers?: string[] }} o
 */
export function benchRunConfig({ remoteUrl, issuer, dir, layers = ALL_LAYERS }) {
  const unknown = layers.filter((l) => !ALL_LAYERS.includes(l));
  if (unknown.length > 0) throw new TypeError(`unknown layer(s): ${unknown.join(', ')}`);
  const has = (l) => layers.includes(l);
  if (has('authz') && !has('auth')) throw new TypeError('the "authz" layer needs "auth" (group claims)');
  return validateRunConfig({
    schemaVersion: 1,
    name: 'bench',
    remoteUrl,
    insecureLoopback: true,
    listen: { host: '127.0.0.1', port: 0 },
    auth: has('auth')
      ? { mode: 'oidc', issuer, audience: AUDIENCE, resourceUrl: AUDIENCE }
      : { mode: 'anonymous', user: 'bench-user' },
    ...(has('telemetry')
      ? { metrics: { host: '127.0.0.1', port: 0 }, telemetry: { serviceName: 'bastion-bench' } }
      : {}),
    ...(has('tools')
      ? { tools: { filter: ['echo', 'add', 'weather'], overrides: { get_weather: { name: 'weather' } } } }
      : {}),
    ...(has('authz')
      ? {
          authz: {
            policies: [
              '@id("engineering") permit (principal in Group::"engineering", action == Action::"call_tool", resource);',
              '@id("no-delete") forbid (principal, action == Action::"call_tool", resource == Tool::"delete_repo");',
            ],
          },
        }
      : {}),
    ...(has('audit')
      ? { audit: { enabled: true, sinks: [{ type: 'file', path: join(dir, 'audit.jsonl') }] } }
      : {}),
  });
}
