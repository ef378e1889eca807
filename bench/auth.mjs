#!/usr/bin/env node
/**
 * Benchmark: the cost of inbound JWT validation (packages/auth), on vs off, in the same run.
 *
 * Three proxies run side by side in this process against the same testkit MCP upstream (stateless,
 * JSON answers):
 *   off       no auth middleware (the baseline)
 *   jwt       auth with JWT validation via JWKS (shared JWKS cache + verified-token cache, defaults)
 *   jwt-nocache  the same with the verified-token cache off (every request verifies a signature;
 *             the JWKS is still cached) — shows what the cache buys
 * A fixed-concurrency closed loop on an undici Pool sends MCP `tools/call echo` requests, each with
 * one of BENCH_USERS distinct RS256 tokens (round-robin), alternating rounds off/jwt/jwt-nocache so
 * machine noise hits all of them. Prints req/s, the ratio to "off", and p50/p99 latency, plus the
 * number of JWKS fetches the issuer saw (one per auth middleware is expected). Nothing here asserts timings.
 *
 * Run from the repo root, after building the packages it imports:
 *   (cd packages/proxy-core && npx tsup) && (cd packages/testkit && npx tsup) && (cd packages/auth && npx tsup)
 *   node bench/auth.mjs
 * Environment knobs: BENCH_CONCURRENCY (default 16), BENCH_DURATION_MS per round (default 3000),
 *   BENCH_ROUNDS (default 3), BENCH_WARMUP_MS (default 1000), BENCH_USERS (default 50).
 *
 * Tokens come from the testkit token minter when its build exports `startTokenMinter`; otherwise from
 * a small jose-based issuer started here (a real JWKS over HTTP on 127.0.0.1).
 */
import { createServer } from 'node:http';
import { createAuthMiddleware } from '@bastion-mcp/auth';
import { startProxyServer } from '@bastion-mcp/proxy-core';
import * as testkit from '@bastion-mcp/testkit';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { Pool } from 'undici';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 1000);
const USERS = Number(process.env.BENCH_USERS ?? 50);
const AUDIENCE = 'https://bench.bastion.test/mcp';

/** A minimal issuer: one RS256 key, a JWKS endpoint counting its fetches. */
async function startLocalMinter() {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'RS256', use: 'sig' };
  let jwksHits = 0;
  const server = createServer((_req, res) => {
    jwksHits++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  return {
    kind: 'local jose issuer (bench/auth.mjs)',
    issuer,
    jwksUri: `${issuer}/jwks`,
    get jwksHits() {
      return jwksHits;
    },
    mint: ({ claims }) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'bench-1', typ: 'JWT' }).sign(privateKey),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

async function startMinter() {
  if (typeof testkit.startTokenMinter === 'function') {
    const m = await testkit.startTokenMinter();
    return {
      kind: 'testkit startTokenMinter',
      ...m,
      mint: (o) => m.mint(o),
      close: () => m.close(),
      get jwksHits() {
        return m.jwksHits;
      },
    };
  }
  return startLocalMinter();
}

function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function load(url, tokens, durationMs, warmupMs) {
  const u = new URL(url);
  const pool = new Pool(u.origin, { connections: CONCURRENCY, pipelining: 1, keepAliveTimeout: 10_000 });
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'echo', arguments: { text: 'hello bastion' } },
  });
  const latencies = [];
  let errors = 0;
  let firstError;
  let measuring = false;
  let stop = false;
  let next = 0;
  const worker = async () => {
    while (!stop) {
      const token = tokens[next++ % tokens.length];
      const t0 = process.hrtime.bigint();
      try {
        const res = await pool.request({
          path: u.pathname,
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            'mcp-protocol-version': '2025-06-18',
            authorization: `Bearer ${token}`,
          },
          body,
        });
        await res.body.text();
        if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
        if (measuring) latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      } catch (err) {
        if (measuring) errors++;
        firstError ??= err;
      }
    }
  };
  const workers = Array.from({ length: CONCURRENCY }, worker);
  await new Promise((r) => setTimeout(r, warmupMs));
  measuring = true;
  const started = performance.now();
  await new Promise((r) => setTimeout(r, durationMs));
  measuring = false;
  const elapsed = performance.now() - started;
  stop = true;
  await Promise.all(workers);
  await pool.close();
  latencies.sort((a, b) => a - b);
  return { count: latencies.length, elapsed, latencies, errors, firstError };
}

const minter = await startMinter();
const upstream = await testkit.startMcpUpstream({ stateless: true, jsonResponse: true });
const now = Math.floor(Date.now() / 1000);
const tokens = await Promise.all(
  Array.from({ length: USERS }, (_, i) =>
    minter.mint({
      claims: {
        iss: minter.issuer,
        aud: AUDIENCE,
        sub: `user-${i}`,
        scope: 'mcp:tools',
        iat: now,
        exp: now + 3600,
      },
    }),
  ),
);
const authCommon = { issuer: minter.issuer, jwksUrl: minter.jwksUri, audience: AUDIENCE, resource: AUDIENCE };
const variants = {
  off: { middlewares: [] },
  jwt: { middlewares: [createAuthMiddleware(authCommon)] },
  'jwt-nocache': { middlewares: [createAuthMiddleware({ ...authCommon, jwt: { cacheTtlMs: 0 } })] },
};
const proxies = {};
for (const [name, v] of Object.entries(variants)) {
  proxies[name] = await startProxyServer({
    upstreamUrl: upstream.url,
    serverName: 'bench',
    middlewares: v.middlewares,
  });
}

console.log(
  `auth benchmark — node ${process.version}, concurrency ${CONCURRENCY}, ${ROUNDS} rounds × ${DURATION_MS} ms, ${USERS} distinct tokens, tokens from ${minter.kind}`,
);
const totals = Object.fromEntries(
  Object.keys(variants).map((k) => [k, { count: 0, elapsed: 0, latencies: [], errors: 0 }]),
);
for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order each round so no variant always runs first (JIT warm-up, noisy neighbours).
  const names = Object.keys(variants);
  const order = [...names.slice(round % names.length), ...names.slice(0, round % names.length)];
  for (const name of order) {
    const r = await load(proxies[name].url, tokens, DURATION_MS, round === 0 ? WARMUP_MS : 300);
    const t = totals[name];
    t.count += r.count;
    t.elapsed += r.elapsed;
    t.errors += r.errors;
    for (const l of r.latencies) t.latencies.push(l);
    if (r.errors > 0)
      console.log(`  ! ${name}: ${r.errors} errors (first: ${r.firstError?.message ?? r.firstError})`);
  }
}
const baseRps = (totals.off.count / totals.off.elapsed) * 1000;
console.log('variant        req/s   ratio vs off    p50 ms    p99 ms');
for (const [name, t] of Object.entries(totals)) {
  t.latencies.sort((a, b) => a - b);
  const rps = (t.count / t.elapsed) * 1000;
  console.log(
    `${name.padEnd(12)} ${rps.toFixed(0).padStart(7)}   ${((rps / baseRps) * 100).toFixed(1).padStart(8)} %   ${percentile(t.latencies, 50).toFixed(2).padStart(7)}   ${percentile(t.latencies, 99).toFixed(2).padStart(7)}`,
  );
}
const jwtRps = (totals.jwt.count / totals.jwt.elapsed) * 1000;
console.log(
  `JWT validation overhead (cached path): ${((1 - jwtRps / baseRps) * 100).toFixed(1)} % of throughput`,
);
console.log(
  `JWKS fetches seen by the issuer: ${minter.jwksHits} (one per auth middleware expected: each has its own cache)`,
);

for (const p of Object.values(proxies)) await p.close();
for (const v of Object.values(variants)) for (const m of v.middlewares) await m.close?.();
await upstream.close();
await minter.close();
