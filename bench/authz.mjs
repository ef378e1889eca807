#!/usr/bin/env node
/**
 * Benchmark: the cost of Cedar authorization (packages/authz) on the request path.
 *
 * Two proxies run side by side in the same process against the same testkit MCP upstream (stateless,
 * JSON responses, so every request is one round trip):
 *   A. identity → authz (10 policies, tool annotations from the upstream, claims + args in context) → forwarder
 *   B. identity → forwarder
 * "identity" is a stand-in that puts a fixed Identity (with claims and groups) on the exchange, so the
 * comparison isolates the authz layer (token validation is benchmarked by the auth package).
 * A fixed-concurrency closed loop on an undici Pool (bench/lib/load.mjs) sends `tools/call echo`,
 * alternating rounds A/B so machine noise hits both, and prints req/s, p50/p99, the ratio A/B and the
 * extra latency per request. It then measures the decision function alone (engine.evaluate on a
 * built request, and a 3-tool list filter) in a tight loop and prints µs per evaluation.
 *
 * Run (from the repo root, after building the packages it imports):
 *   npx nx run-many -t build -p proxy-core testkit authz      # or: npm run build
 *   node bench/authz.mjs
 * Environment knobs:
 *   BENCH_CONCURRENCY (default 16), BENCH_DURATION_MS per round (default 3000), BENCH_ROUNDS (default 3),
 *   BENCH_WARMUP_MS (default 1000), BENCH_EVALS (decision-function iterations, default 20000).
 */
import { buildPrincipal, buildRequest, createAuthzMiddleware, filterListMessage } from '@bastion-mcp/authz';
import { startProxyServer } from '@bastion-mcp/proxy-core';
import { startMcpUpstream } from '@bastion-mcp/testkit';
import { fmt, runLoad } from './lib/load.mjs';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 1000);
const EVALS = Number(process.env.BENCH_EVALS ?? 20000);

/** Ten policies of the kinds people write: lists, claims, groups, names, annotations, arguments. */
const POLICIES = [
  '@id("lists") permit(principal, action in [Action::"list_tools", Action::"list_prompts", Action::"list_resources"], resource);',
  '@id("company") permit(principal, action == Action::"call_tool", resource) when { principal has claim_email && principal.claim_email like "*@company.com" && resource in [Tool::"echo", Tool::"get_weather", Tool::"add"] };',
  '@id("eng-all") permit(principal in Group::"eng", action == Action::"call_tool", resource in MCP::"demo") when { resource has readOnlyHint && resource.readOnlyHint };',
  '@id("admins") permit(principal in Role::"admin", action, resource);',
  '@id("no-destructive") forbid(principal, action == Action::"call_tool", resource) when { resource has destructiveHint && resource.destructiveHint };',
  '@id("small-add") forbid(principal, action == Action::"call_tool", resource == Tool::"add") when { context has arg_a && context.arg_a > 1000 };',
  '@id("no-secret") forbid(principal, action == Action::"read_resource", resource == Resource::"demo://secret") unless { principal in Group::"security" };',
  '@id("prompts") permit(principal, action == Action::"get_prompt", resource) when { principal has claim_teams && principal.claim_teams.contains("blue") };',
  '@id("contractors") forbid(principal, action, resource) when { principal has claim_org && principal.claim_org.kind == "contractor" };',
  '@id("long-text") forbid(principal, action == Action::"call_tool", resource == Tool::"echo") when { context has arg_text && context.arg_text like "*DROP TABLE*" };',
];

const IDENTITY = {
  subject: 'alice',
  email: 'alice@company.com',
  groups: ['eng', 'blue-team'],
  roles: ['dev'],
  scopes: ['mcp'],
  claims: {
    sub: 'alice',
    email: 'alice@company.com',
    groups: ['eng', 'blue-team'],
    teams: ['red', 'blue'],
    org: { kind: 'employee', dept: { name: 'research' } },
    iat: 1767225600,
    exp: 1767229200,
  },
  tokenKind: 'jwt',
};

const identityLayer = {
  name: 'auth',
  async handle(exchange, next) {
    exchange.identity = IDENTITY;
    return next();
  },
};

const BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'echo', arguments: { text: 'hello from the benchmark' } },
});
const HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-06-18',
};

async function main() {
  const upstream = await startMcpUpstream({ stateless: true, jsonResponse: true });
  const authz = await createAuthzMiddleware({ policies: POLICIES });
  const withAuthz = await startProxyServer({
    upstreamUrl: upstream.url,
    serverName: 'demo',
    middlewares: [identityLayer, authz],
  });
  const without = await startProxyServer({
    upstreamUrl: upstream.url,
    serverName: 'demo',
    middlewares: [identityLayer],
  });
  console.log(
    `authz benchmark: ${POLICIES.length} policies, concurrency ${CONCURRENCY}, ${ROUNDS} rounds x ${DURATION_MS} ms each`,
  );
  const totals = { A: { n: 0, t: 0, p50: [], p99: [] }, B: { n: 0, t: 0, p50: [], p99: [] } };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [key, proxy] of [
        ['A', withAuthz],
        ['B', without],
      ]) {
        const r = await runLoad({
          url: proxy.url,
          body: BODY,
          headers: HEADERS,
          concurrency: CONCURRENCY,
          durationMs: DURATION_MS,
          warmupMs: WARMUP_MS,
        });
        if (r.errors > 0) throw new Error(`${key}: ${r.errors} errors (first: ${r.firstError})`);
        totals[key].n += r.requests;
        totals[key].t += DURATION_MS;
        totals[key].p50.push(r.p50);
        totals[key].p99.push(r.p99);
        console.log(
          `round ${round + 1} ${key === 'A' ? 'with authz   ' : 'without authz'} ${fmt.rps(r.rps)} req/s  p50 ${fmt.ms(r.p50)}  p99 ${fmt.ms(r.p99)}`,
        );
      }
    }
  } finally {
    await withAuthz.close();
    await without.close();
    await upstream.close();
  }
  const rpsA = (totals.A.n / totals.A.t) * 1000;
  const rpsB = (totals.B.n / totals.B.t) * 1000;
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`with authz ${rpsA.toFixed(0)} req/s, without ${rpsB.toFixed(0)} req/s`);
  console.log(`ratio with/without: ${(rpsA / rpsB).toFixed(3)}`);
  console.log(
    `per-request cost at concurrency ${CONCURRENCY}: ${((1000 / rpsA - 1000 / rpsB) * 1000 * CONCURRENCY).toFixed(1)} µs of latency ` +
      `(median p50 ${median(totals.A.p50).toFixed(2)} vs ${median(totals.B.p50).toFixed(2)} ms)`,
  );

  // The decision function alone.
  const engine = authz.engine;
  const principal = buildPrincipal(IDENTITY, { groupEntityType: 'Group', roleEntityType: 'Role' });
  const target = { kind: 'tool', name: 'echo', annotations: { readOnlyHint: true, openWorldHint: false } };
  const args = { text: 'hello from the benchmark' };
  for (let i = 0; i < 1000; i++) engine.evaluate(buildRequest(principal, 'demo', target, args));
  let t0 = performance.now();
  let allowed = 0;
  for (let i = 0; i < EVALS; i++) {
    if (engine.evaluate(buildRequest(principal, 'demo', target, args)).decision === 'allow') allowed++;
  }
  const evalUs = ((performance.now() - t0) * 1000) / EVALS;
  if (allowed !== EVALS) throw new Error('the benchmark request should be allowed');
  t0 = performance.now();
  for (let i = 0; i < EVALS; i++)
    buildPrincipal(IDENTITY, { groupEntityType: 'Group', roleEntityType: 'Role' });
  const principalUs = ((performance.now() - t0) * 1000) / EVALS;
  const list = {
    jsonrpc: '2.0',
    id: 1,
    result: {
      tools: [
        { name: 'echo', annotations: { readOnlyHint: true } },
        { name: 'delete_repo', annotations: { destructiveHint: true } },
        { name: 'get_weather', annotations: { readOnlyHint: true } },
      ],
    },
  };
  const ctx = { engine, principal, serverName: 'demo', markPrivate: false };
  const listIters = Math.max(1, Math.floor(EVALS / 3));
  t0 = performance.now();
  for (let i = 0; i < listIters; i++) filterListMessage(list, 'tools', ctx);
  const listUs = ((performance.now() - t0) * 1000) / listIters;
  console.log(
    `decision function alone: ${evalUs.toFixed(1)} µs per evaluation (${EVALS} iterations, 10 policies)`,
  );
  console.log(`principal build (claims → Cedar): ${principalUs.toFixed(1)} µs`);
  console.log(`tools/list filter of 3 tools: ${listUs.toFixed(1)} µs`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
