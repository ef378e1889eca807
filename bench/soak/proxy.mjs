// Soak proxy: the full chain (telemetry-edge → audit → auth (anonymous) → tool-filter → telemetry →
// authz, permissive Cedar) from @bastion-mcp/conformance's createFullChain, in its own process. Answers
// `{ type: 'mem' }` over IPC with RSS and heap after a full GC (run with --expose-gc).
import { startProxyServer } from '@bastion-mcp/proxy-core';
import { createFullChain } from '@bastion-mcp/conformance';
import { reportReady } from '../lib/spawn.mjs';

// SOAK_TELEMETRY=0 leaves the OpenTelemetry SDK out (to tell its memory from the rest of the chain).
const chain = await createFullChain({ telemetry: process.env.SOAK_TELEMETRY !== '0' });
const proxy = await startProxyServer({
  upstreamUrl: process.argv[2],
  serverName: 'soak',
  middlewares: chain.middlewares,
  upstream: { keepAliveTimeoutMs: 10_000 },
});
reportReady({ url: proxy.url }, proxy.server);
process.on('message', (m) => {
  if (m?.type !== 'mem') return;
  globalThis.gc?.();
  const mu = process.memoryUsage();
  process.send({
    type: 'mem',
    id: m.id,
    rss: mu.rss,
    heapUsed: mu.heapUsed,
    external: mu.external,
    auditEvents: chain.auditEvents,
    inFlight: proxy.handler.inFlight,
    handles: process.getActiveResourcesInfo().length,
  });
});
process.on('SIGTERM', async () => {
  await proxy.close({ graceMs: 0 });
  await chain.close();
  process.exit(0);
});
