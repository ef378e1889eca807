#!/usr/bin/env node
/**
 * Benchmark: the cost of token exchange on the cache-hit path.
 *
 * Two proxies run side by side in the same process against the same testkit MCP upstream:
 *   A. auth → token-exchange (RFC 8693 at the real testkit IdP; after the first call every request is
 *      a cache hit) → forwarder
 *   B. auth → forwarder (no exchange)
 * A fixed-concurrency load loop (undici Pool) sends MCP `ping` requests with one bearer token to each,
 * alternating rounds (A then B, B then A) so machine noise hits both, and prints req/s, p50/p99 latency and the ratio.
 * It also prints how many STS calls the IdP saw (1 is expected: everything after the first is cached).
 *
 * Run (from the repo root, after building the packages it imports):
 *   npm run build            # or: npx nx run-many -t build -p proxy-core testkit token-exchange auth
 *   node bench/token-exchange.mjs
 * Environment knobs:
 *   BENCH_CONCURRENCY (default 16), BENCH_DURATION_MS per round (default 3000), BENCH_ROUNDS (default 3),
 *   BENCH_WARMUP_MS (default 1000).
 *
 * "auth" is packages/auth's JWT middleware when its build exports `createAuthMiddleware`; otherwise a
 * stand-in that only moves the bearer token onto the exchange (printed at start), so the comparison
 * then isolates the token-exchange layer.
 */
import { startProxyServer } from '@bastion-mcp/proxy-core';
import { startMcpUpstream, startTestIdp } from '@bastion-mcp/testkit';
import { createTokenExchangeMiddleware } from '@bastion-mcp/token-exchange';
import { decodeJwt } from 'jose';
import { Pool } from 'undici';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 1000);

async function authMiddleware(idp) {
  try {
    const auth = await import('@bastion-mcp/auth');
    if (typeof auth.createAuthMiddleware === 'function') {
      return {
        kind: 'packages/auth (JWT via JWKS)',
        middleware: auth.createAuthMiddleware({
          issuer: idp.issuer,
          jwksUrl: idp.jwksUri,
          audience: idp.resource,
          resource: 'http://127.0.0.1/mcp',
        }),
      };
    }
  } catch {
    // not built yet: fall through to the stand-in
  }
  return {
    kind: 'stand-in (bearer token moved onto the exchange, not verified)',
    middleware: {
      name: 'auth',
      async handle(exchange, next) {
        const header = exchange.request.headers.authorization ?? '';
        const token = header.startsWith('Bearer ') ? header.slice(7) : undefined;
        if (token) {
          const claims = decodeJwt(token);
          exchange.inboundToken = token;
          exchange.identity = {
            subject: String(claims.sub),
            groups: [],
            roles: [],
            scopes: [],
            claims,
            tokenKind: 'jwt',
            expiresAt: claims.exp,
          };
        }
        return next();
      },
    },
  };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function load(origin, path, token, durationMs) {
  const pool = new Pool(origin, { connections: CONCURRENCY, pipelining: 1 });
  const latencies = [];
  let errors = 0;
  let id = 0;
  const deadline = performance.now() + durationMs;
  async function worker() {
    while (performance.now() < deadline) {
      const body = JSON.stringify({ jsonrpc: '2.0', id: ++id, method: 'ping' });
      const started = performance.now();
      const res = await pool.request({
        method: 'POST',
        path,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body,
      });
      await res.body.text();
      latencies.push(performance.now() - started);
      if (res.statusCode !== 200) errors++;
    }
  }
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsed = performance.now() - started;
  await pool.close();
  latencies.sort((a, b) => a - b);
  return { count: latencies.length, errors, rps: (latencies.length / elapsed) * 1000, latencies };
}

async function main() {
  const idp = await startTestIdp();
  const up = await startMcpUpstream({ stateless: true, jsonResponse: true });
  const { kind, middleware: auth } = await authMiddleware(idp);
  const exchanger = idp.clients.exchanger;
  const audience = 'https://crm.bastion.test/mcp';
  idp.addResource(audience);
  const tokenExchange = createTokenExchangeMiddleware({
    tokenUrl: idp.tokenEndpoint,
    clientId: exchanger.clientId,
    clientSecret: exchanger.clientSecret,
    audience,
    allowInsecureRequests: true,
  });
  const withExchange = await startProxyServer({
    upstreamUrl: up.url,
    middlewares: [auth, tokenExchange],
    port: 0,
  });
  const without = await startProxyServer({ upstreamUrl: up.url, middlewares: [auth], port: 0 });
  const token = await idp.issueAccessToken({ sub: 'bench-user', resource: idp.resource });
  const path = new URL(withExchange.url).pathname;

  console.log(
    `token-exchange benchmark: concurrency ${CONCURRENCY}, ${ROUNDS} rounds x ${DURATION_MS} ms each`,
  );
  console.log(`auth: ${kind}`);
  const stsBefore = idp.hits.tokenExchange ?? 0;
  await load(withExchange.origin, path, token, WARMUP_MS);
  await load(without.origin, path, token, WARMUP_MS);

  const a = { count: 0, errors: 0, ms: 0, latencies: [] };
  const b = { count: 0, errors: 0, ms: 0, latencies: [] };
  for (let round = 0; round < ROUNDS; round++) {
    // alternate which proxy goes first, so order effects (GC, warm caches) hit both equally
    const order = [
      [withExchange, a],
      [without, b],
    ];
    if (round % 2 === 1) order.reverse();
    for (const [target, acc] of order) {
      const r = await load(target.origin, path, token, DURATION_MS);
      acc.count += r.count;
      acc.errors += r.errors;
      acc.ms += (r.count / r.rps) * 1000;
      acc.latencies.push(...r.latencies);
    }
  }
  const report = (name, acc) => {
    acc.latencies.sort((x, y) => x - y);
    const rps = (acc.count / acc.ms) * 1000;
    console.log(
      `${name.padEnd(28)} ${rps.toFixed(0).padStart(7)} req/s   p50 ${percentile(acc.latencies, 50).toFixed(2)} ms   p99 ${percentile(acc.latencies, 99).toFixed(2)} ms   errors ${acc.errors}/${acc.count}`,
    );
    return rps;
  };
  const rpsA = report('with exchange (cache hit)', a);
  const rpsB = report('without exchange', b);
  console.log(`ratio with/without: ${(rpsA / rpsB).toFixed(3)}`);
  console.log(`STS calls during the run: ${(idp.hits.tokenExchange ?? 0) - stsBefore}`);

  await withExchange.close();
  await without.close();
  await up.close();
  await idp.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
