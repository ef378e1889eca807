// Benchmark proxy: proxy-core with no middleware (passthrough) in front of argv[2].
import { startProxyServer } from '@bastion-mcp/proxy-core';
import { reportReady } from '../lib/spawn.mjs';

const proxy = await startProxyServer({ upstreamUrl: process.argv[2], serverName: 'bench' });
reportReady({ url: proxy.url }, proxy.server);
process.on('SIGTERM', async () => {
  await proxy.close();
  process.exit(0);
});
