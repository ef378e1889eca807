#!/usr/bin/env node
/**
 * Micro-benchmark: the auth + authz middlewares' own CPU per request on the hot path (a cached JWT, a
 * cached Cedar decision), in-process, without HTTP: auth.handle → authz.handle → a terminal `next`
 * answering at once. Each iteration builds a fresh Exchange like the server does (its cost is in
 * every variant). With BENCH_BASELINE=<checkout> the same loop runs that checkout's builds in
 * interleaved rounds, so a before/after in one run; prints ns per request (median and min of rounds).
 * Real RS256 tokens and a real JWKS over HTTP on 127.0.0.1 (bench/lib/jwt-issuer.mjs).
 *
 *   npx nx run-many -t build -p proxy-core auth authz && node bench/auth-authz-hot.mjs
 * Knobs: BENCH_ITERATIONS per round (default 200000), BENCH_ROUNDS (default 7), BENCH_BASELINE,
 *   BENCH_USERS distinct tokens round-robin (default 1; more fill the caches), BENCH_ARGS=0 for a call
 *   without arguments, BENCH_LAYERS=auth or =authz for one layer alone (authz then gets the identity
 *   auth gave the first token, as auth hands it out).
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startJwtIssuer } from './lib/jwt-issuer.mjs';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const USERS = Number(process.env.BENCH_USERS ?? 1);
const baseline = process.env.BENCH_BASELINE;
const layers = process.env.BENCH_LAYERS ?? 'auth,authz';
const root = fileURLToPath(new URL('..', import.meta.url));
const AUDIENCE = 'https://bench.bastion.test/mcp';

const issuer = await startJwtIssuer();
const tokens = await Promise.all(
  Array.from({ length: USERS }, (_, i) =>
    issuer.mint({ sub: `bench-user-${i}`, groups: ['engineering'], email: `u${i}@example.com` }, AUDIENCE),
  ),
);
const rpc = {
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'echo', arguments: process.env.BENCH_ARGS === '0' ? {} : { text: 'hello bastion' } },
};
const body = Buffer.from(JSON.stringify(rpc));

async function variant(name, dir) {
  const load = (pkg) => import(pathToFileURL(`${dir}/packages/${pkg}/dist/index.js`).href);
  const [core, auth, authz] = await Promise.all([load('proxy-core'), load('auth'), load('authz')]);
  const authMw = auth.createAuthMiddleware({ issuer: issuer.issuer, resource: AUDIENCE, audience: AUDIENCE });
  const authzMw = await authz.createAuthzMiddleware({
    policies: [
      '@id("engineering") permit (principal in Group::"engineering", action == Action::"call_tool", resource);',
      '@id("no-delete") forbid (principal, action == Action::"call_tool", resource == Tool::"delete_repo");',
    ],
  });
  const answer = core.jsonResponse(200, { jsonrpc: '2.0', id: 1, result: { content: [] } });
  const terminal = () => Promise.resolve(answer);
  const signal = new AbortController().signal;
  let i = 0;
  let identity;
  const chain = {
    'auth,authz': (exchange) => authMw.handle(exchange, () => authzMw.handle(exchange, terminal)),
    auth: (exchange) => authMw.handle(exchange, terminal),
    authz: (exchange) => {
      exchange.identity = identity;
      return authzMw.handle(exchange, terminal);
    },
  }[layers];
  if (!chain) throw new TypeError(`BENCH_LAYERS: auth,authz | auth | authz, not ${layers}`);
  const once = async () => {
    const token = tokens[i++ % tokens.length];
    const headers = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
      authorization: `Bearer ${token}`,
    };
    const exchange = new core.Exchange({
      request: {
        method: 'POST',
        path: '/mcp',
        query: '',
        headers,
        body,
        remoteAddress: '127.0.0.1',
        protocol: 'http',
      },
      requestId: 'r',
      serverName: 'bench',
      route: 'streamable',
      rpc,
      upstreamHeaders: { 'content-type': 'application/json', 'mcp-protocol-version': '2025-06-18' },
      signal,
    });
    const res = await chain(exchange);
    if (res !== answer) throw new Error(`${name}: unexpected answer`);
  };
  const first = new core.Exchange({
    request: {
      method: 'POST',
      path: '/mcp',
      query: '',
      headers: { authorization: `Bearer ${tokens[0]}` },
      body,
      remoteAddress: '127.0.0.1',
      protocol: 'http',
    },
    requestId: 'r0',
    serverName: 'bench',
    route: 'streamable',
    rpc,
    upstreamHeaders: {},
    signal,
  });
  await authMw.handle(first, terminal);
  identity = first.identity;
  // First verifications (signatures, JWKS fetch) and the first Cedar evaluations happen here.
  for (let w = 0; w < 20_000; w++) await once();
  return { name, once, samples: [] };
}

const variants = [];
if (baseline) variants.push(await variant('base', baseline));
variants.push(await variant('this', root));

for (let r = 0; r < ROUNDS; r++) {
  for (const v of variants) {
    const start = process.cpuUsage();
    for (let n = 0; n < ITERATIONS; n++) await v.once();
    const used = process.cpuUsage(start);
    v.samples.push(((used.user + used.system) * 1000) / ITERATIONS);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`${layers} hot path, ${USERS} token(s), ${ROUNDS} × ${ITERATIONS} requests (ns CPU per request)`);
for (const v of variants) {
  console.log(
    `${v.name.padEnd(6)} median ${median(v.samples).toFixed(0).padStart(6)}   min ${Math.min(...v.samples)
      .toFixed(0)
      .padStart(6)}`,
  );
}
await issuer.close();
process.exit(0);
