#!/usr/bin/env node
/**
 * Micro-benchmark: CPU per request of the two telemetry layers (edge + middleware), in process, without
 * HTTP — what `finish()` and the metric instruments cost, free of the socket and scheduling noise of
 * bench/cpu.mjs. Each request is a `tools/call echo` exchange through `composeChain([edge, middleware])`
 * to a terminal that publishes what the forwarder and the outer layers would (`bastion:upstream:finish`,
 * two cache lookups) and answers JSON; every 1000 requests the Prometheus text is rendered (a scrape).
 * Traces are off (no exporter), as in the bench chain.
 *
 *   node bench/telemetry-chain.mjs
 *   BENCH_BASELINE=/path/to/other/checkout node bench/telemetry-chain.mjs   # interleaved before/after
 *
 * Knobs: BENCH_REQUESTS per round (default 50000), BENCH_ROUNDS (default 7). Prints the median and the
 * minimum over rounds of µs CPU per request (the exchange construction is included on both sides).
 * Nothing here asserts timings.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

async function variant(name, checkout) {
  const load = (pkg) => import(pathToFileURL(`${checkout}/packages/${pkg}/dist/index.js`).href);
  const core = await load('proxy-core');
  const { createTelemetry } = await load('telemetry');
  const telemetry = await createTelemetry({ serviceName: 'bench', processMetrics: false });
  const chain = core.composeChain([telemetry.edge, telemetry.middleware], async (ex) => {
    core.channels.upstreamFinish.publish({
      exchange: ex,
      url: 'http://127.0.0.1:1/mcp',
      method: 'POST',
      status: 200,
      durationMs: 0.4,
    });
    core.publishCacheLookup('jwks', 'hit');
    core.publishCacheLookup('tools-list', 'hit');
    const rpc = ex.rpc;
    return core.jsonResponse(
      200,
      rpc.method === 'tools/list'
        ? {
            jsonrpc: '2.0',
            id: rpc.id,
            result: { tools: [{ name: 'echo', inputSchema: { type: 'object' } }] },
          }
        : { jsonrpc: '2.0', id: rpc.id, result: { content: [{ type: 'text', text: 'hi' }] } },
    );
  });
  let n = 0;
  const signal = new AbortController().signal;
  const exchange = (method, params) => {
    n += 1;
    const rpc = { jsonrpc: '2.0', id: n, method, params };
    return new core.Exchange({
      request: {
        method: 'POST',
        path: '/mcp',
        query: '',
        headers: {
          host: '127.0.0.1:8080',
          'content-type': 'application/json',
          'mcp-protocol-version': '2025-06-18',
          'user-agent': 'bench',
        },
        body: Buffer.from('{}'),
        remoteAddress: '127.0.0.1',
        protocol: 'http',
      },
      requestId: `r${n}`,
      serverName: 'bench',
      route: 'streamable',
      rpc,
      upstreamHeaders: {},
      signal,
    });
  };
  const scrape = () =>
    new Promise((resolve) => {
      const res = {
        statusCode: 200,
        setHeader() {},
        writeHead() {
          return res;
        },
        end: resolve,
      };
      telemetry.metricsHandler({ url: '/metrics', method: 'GET', headers: {} }, res);
    });
  await chain(exchange('tools/list', {}));
  return {
    name,
    async run(count) {
      for (let i = 0; i < count; i++) {
        await chain(exchange('tools/call', { name: 'echo', arguments: { text: 'hi' } }));
        if (i % 1000 === 999) await scrape();
      }
    },
    close: () => telemetry.shutdown(),
  };
}

const variants = [];
if (process.env.BENCH_BASELINE) variants.push(await variant('base', process.env.BENCH_BASELINE));
variants.push(await variant('this', root));
for (const v of variants) await v.run(5_000); // warm-up
const samples = new Map(variants.map((v) => [v.name, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const v of variants) {
    const start = process.cpuUsage();
    await v.run(REQUESTS);
    const used = process.cpuUsage(start);
    samples.get(v.name).push((used.user + used.system) / REQUESTS);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `telemetry edge + middleware, ${ROUNDS} × ${REQUESTS} tools/call per variant, node ${process.version}`,
);
console.log('variant   µs CPU/request (median)   (min)');
for (const [name, xs] of samples) {
  console.log(
    `${name.padEnd(9)} ${median(xs).toFixed(2).padStart(10)}             ${Math.min(...xs).toFixed(2)}`,
  );
}
await Promise.all(variants.map((v) => v.close()));
