#!/usr/bin/env node
// `npm run bench`: the same closed-loop load against the upstream directly and through Bastion, in one
// run, for a JSON `tools/call` answer and an SSE-framed one, at two concurrency levels. Prints req/s,
// the ratio to direct, added p50/p99 latency and the proxy's RSS. Nothing here asserts timings.
//
//   npm run bench                      # builds if needed, then runs (about 1 minute)
//   BENCH_DURATION_MS=10000 npm run bench
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fmt, runLoad } from './lib/load.mjs';
import { spawnRole } from './lib/spawn.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
if (
  !existsSync(`${root}/packages/proxy-core/dist/index.js`) ||
  !existsSync(`${root}/packages/testkit/dist/index.js`)
) {
  execSync('npx nx run-many -t build --outputStyle=static', { cwd: root, stdio: 'inherit' });
}

const durationMs = Number(process.env.BENCH_DURATION_MS ?? 5000);
const levels = (process.env.BENCH_CONCURRENCY ?? '4,16').split(',').map(Number);
const body = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'echo', arguments: { text: 'hello bastion' } },
});
const headers = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-06-18',
};

console.log(`Bastion benchmark — node ${process.version}, ${durationMs} ms per measurement, closed loop`);
console.log('scenario          conc   direct rps  proxied rps   ratio  added p50  added p99   proxy RSS');
for (const mode of ['json', 'sse']) {
  const upstream = await spawnRole('upstream', [mode]);
  const proxy = await spawnRole('proxy', [upstream.url]);
  for (const concurrency of levels) {
    const direct = await runLoad({ url: upstream.url, body, headers, concurrency, durationMs });
    const proxied = await runLoad({ url: proxy.url, body, headers, concurrency, durationMs });
    const rss = await proxy.rss();
    for (const [label, r] of [
      ['direct', direct],
      ['proxied', proxied],
    ]) {
      if (r.errors > 0) console.log(`  ! ${label}: ${r.errors} errors (first: ${r.firstError})`);
    }
    console.log(
      `${`tools/call ${mode}`.padEnd(17)} ${String(concurrency).padStart(4)}  ${fmt.rps(direct.rps)}      ${fmt.rps(proxied.rps)} ${fmt.pct(proxied.rps / direct.rps)} ${fmt.ms(proxied.p50 - direct.p50)} ${fmt.ms(proxied.p99 - direct.p99)}   ${fmt.mb(rss)}`,
    );
  }
  await proxy.stop();
  await upstream.stop();
}
