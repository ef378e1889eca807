/**
 * The canonical chain order (PRODUCT.md §1.2) as a tested invariant, through the real middlewares, a
 * real proxy-core server, a real JWKS issuer and the testkit MCP upstream.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type McpUpstream, startMcpUpstream } from '@bastion-mcp/testkit';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import {
  buildChain,
  CHAIN_ORDER,
  type RunConfigInput,
  type RunningProxy,
  resolveSecrets,
  RunConfigError,
  startProxy,
  validateRunConfig,
} from '../src/index.js';
import { startIssuer, type TestIssuer } from './helpers/issuer.js';
import { memorySink } from './helpers/memory-sink.js';
import { rpc } from './helpers/rpc.js';

const AUDIENCE = 'https://bastion.test/mcp';
const POLICIES = [
  `@id("engineering-may-call")
permit (principal in Group::"engineering", action == Action::"call_tool", resource);`,
  `@id("never-delete")
forbid (principal, action == Action::"call_tool", resource == Tool::"delete_repo");`,
];

let upstream: McpUpstream;
let issuer: TestIssuer;
let proxy: RunningProxy;
const audit = memorySink();
const spans = new InMemorySpanExporter();
let engineer: string;
let outsider: string;

function fullConfig(over: Partial<RunConfigInput> = {}): RunConfigInput {
  return {
    schemaVersion: 1,
    name: 'demo',
    remoteUrl: upstream.url,
    insecureLoopback: true,
    listen: { port: 0 },
    metrics: { port: 0 },
    auth: {
      mode: 'oidc',
      issuer: issuer.issuer,
      audience: AUDIENCE,
      resourceUrl: AUDIENCE,
    },
    tools: {
      filter: ['echo', 'weather', 'remove_repo'],
      overrides: { get_weather: { name: 'weather' }, delete_repo: { name: 'remove_repo' } },
    },
    authz: { policies: POLICIES },
    telemetry: { serviceName: 'runner-test' },
    upstreamAuth: { bearerTokenEnv: 'UPSTREAM_TOKEN' },
    headerForward: { plain: { 'X-Tenant': 'acme' }, fromEnv: { 'X-Api-Key': 'API_KEY' } },
    ...over,
  };
}

beforeAll(async () => {
  upstream = await startMcpUpstream({ stateless: true, jsonResponse: true });
  issuer = await startIssuer();
  proxy = await startProxy(validateRunConfig(fullConfig()), {
    env: { UPSTREAM_TOKEN: 'static-upstream-token', API_KEY: 'key-123' },
    extraAuditSinks: [audit],
    telemetryOverrides: { spanExporters: [spans] },
  });
  engineer = await issuer.mint({ sub: 'alice', groups: ['engineering'] }, AUDIENCE);
  outsider = await issuer.mint({ sub: 'mallory', groups: ['sales'] }, AUDIENCE);
});

afterAll(async () => {
  await proxy?.close({ graceMs: 0 });
  await upstream?.close();
  await issuer?.close();
});

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe('buildChain', () => {
  it('assembles the layers in the canonical order', () => {
    expect(proxy.chain).toEqual([
      'telemetry-edge',
      'audit',
      'auth',
      'tool-filter',
      'telemetry',
      'authz',
      'upstream-credential',
    ]);
    // Every name is a canonical layer, in order.
    const positions = proxy.chain.map((n) => (CHAIN_ORDER as readonly string[]).indexOf(n));
    expect(positions.every((p, i) => p >= 0 && (i === 0 || p > (positions[i - 1] as number)))).toBe(true);
  });

  it('puts token exchange right after auth and leaves out what is not configured', async () => {
    const cfg = validateRunConfig({
      schemaVersion: 1,
      name: 'te',
      remoteUrl: 'https://mcp.example.com/mcp',
      auth: { mode: 'oidc', issuer: 'https://idp.example.com', audience: 'a', resourceUrl: AUDIENCE },
      tokenExchange: { tokenUrl: 'https://idp.example.com/token', clientId: 'c', clientSecretEnv: 'S' },
      audit: { sinks: [{ type: 'stdout' }] },
    });
    const secrets = await resolveSecrets(cfg, { S: 'sts-secret' });
    const chain = await buildChain(cfg, { secrets });
    try {
      expect(chain.names).toEqual(['audit', 'auth', 'token-exchange']);
    } finally {
      await Promise.all(chain.middlewares.map((m) => m.close?.()));
      await chain.close();
    }
    const anon = validateRunConfig({
      schemaVersion: 1,
      name: 'a',
      remoteUrl: 'https://x.example/mcp',
      auth: { mode: 'anonymous' },
    });
    const minimal = await buildChain(anon, { secrets: await resolveSecrets(anon, {}) });
    expect(minimal.names).toEqual(['auth']);
    expect(minimal.telemetry).toBeUndefined();
  });

  it('fails as a whole with the RunConfig field named when a layer cannot be built', async () => {
    const cfg = validateRunConfig({
      schemaVersion: 1,
      name: 'bad',
      remoteUrl: 'https://mcp.example.com/mcp',
      auth: { mode: 'anonymous' },
      audit: { sinks: [{ type: 'stdout' }] },
      authz: { policies: ['permit (principal, action, resource'] },
    });
    const err = await buildChain(cfg, { secrets: await resolveSecrets(cfg, {}) }).catch((e) => e);
    expect(err).toBeInstanceOf(RunConfigError);
    expect((err as RunConfigError).issues[0]?.path).toBe('authz');
  });
});

describe('canonical order, observed end to end', () => {
  it('answers a bad token to a filtered tool with 401 (auth before tool-filter), audited', async () => {
    const before = audit.events.length;
    upstream.clearRequests();
    const res = await rpc(proxy.url, 'tools/call', { name: 'not_allowed', arguments: {} }, bearer('garbage'));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    await audit.waitFor(before + 1);
    const event = audit.events[before];
    expect(event?.outcome).toBe('denied');
    expect(event?.status).toBe(401);
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers a filtered tool with -32602 for a valid token, without contacting the upstream', async () => {
    upstream.clearRequests();
    const res = await rpc(
      proxy.url,
      'tools/call',
      { name: 'add', arguments: { a: 1, b: 2 } },
      bearer(engineer),
    );
    expect(res.body.error.code).toBe(-32602);
    expect(upstream.requests).toHaveLength(0);
  });

  it('lets authz decide on the real tool name after renaming', async () => {
    // "remove_repo" is the user-facing name of delete_repo: the forbid on Tool::"delete_repo" applies.
    upstream.clearRequests();
    const denied = await rpc(
      proxy.url,
      'tools/call',
      { name: 'remove_repo', arguments: { name: 'x' } },
      bearer(engineer),
    );
    expect(denied.status).toBe(403);
    expect(denied.body.id).toBe(7);
    expect(JSON.stringify(denied.body)).not.toMatch(/forbid|never-delete/);
    expect(upstream.requests).toHaveLength(0);

    const allowed = await rpc(
      proxy.url,
      'tools/call',
      { name: 'weather', arguments: { city: 'Oslo' } },
      bearer(engineer),
    );
    expect(allowed.status).toBe(200);
    expect(allowed.body.result.isError).not.toBe(true);
    const sent = upstream.rpcRequests('tools/call').at(-1)?.body as { params: { name: string } };
    expect(sent.params.name).toBe('get_weather');
  });

  it('denies a user outside the permitted group', async () => {
    const res = await rpc(
      proxy.url,
      'tools/call',
      { name: 'echo', arguments: { text: 'hi' } },
      bearer(outsider),
    );
    expect(res.status).toBe(403);
  });

  it('records the denied call in telemetry under the real tool name', async () => {
    spans.reset();
    await rpc(proxy.url, 'tools/call', { name: 'remove_repo', arguments: { name: 'y' } }, bearer(engineer));
    await proxy.telemetry?.forceFlush();
    const server = spans.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER);
    expect(server?.name).toBe('tools/call delete_repo');
    expect(server?.attributes['gen_ai.tool.name']).toBe('delete_repo');
    expect(server?.attributes['bastion.client_tool.name']).toBe('remove_repo');
    expect(server?.attributes['http.response.status_code']).toBe(403);
    expect(server?.attributes['bastion.authz.decision']).toBe('deny');
    // The Prometheus listener counts it, and the 401 that auth answered (outside telemetry's inner
    // layer) is counted too, by telemetry-edge.
    const text = await (await fetch(proxy.metricsUrl as string)).text();
    expect(text).toMatch(/bastion_mcp_requests_total\{[^}]*mcp_method="tools\/call"[^}]*status_code="403"/);
    expect(text).toMatch(/bastion_mcp_requests_total\{[^}]*status_code="401"/);
  });

  it('filters and renames tools/list', async () => {
    const res = await rpc(proxy.url, 'tools/list', {}, bearer(engineer));
    const names = (res.body.result.tools as Array<{ name: string }>).map((t) => t.name).sort();
    // Filtered and renamed by tool-filter; remove_repo (delete_repo) also dropped by authz for this user.
    expect(names).toEqual(['echo', 'weather']);
  });

  it('sends the static upstream credential and forwarded headers, never the client token', async () => {
    upstream.clearRequests();
    const res = await rpc(
      proxy.url,
      'tools/call',
      { name: 'echo', arguments: { text: 'hi' } },
      bearer(engineer),
    );
    expect(res.status).toBe(200);
    const seen = upstream.rpcRequests('tools/call').at(-1);
    expect(seen?.headers.authorization).toBe('Bearer static-upstream-token');
    expect(seen?.headers['x-tenant']).toBe('acme');
    expect(seen?.headers['x-api-key']).toBe('key-123');
    expect(JSON.stringify(seen?.headers)).not.toContain(engineer);
  });

  it('is ready once the JWKS was fetched', () => {
    expect(proxy.ready).toBe(true);
    expect(proxy.readiness().checks.auth?.ready).toBe(true);
    expect(issuer.hits.jwks).toBeGreaterThanOrEqual(1);
  });
});
