// Benchmark upstream: the testkit MCP server in stateless mode (no initialize handshake per request).
// argv[2]: "json" (application/json answers) or "sse" (text/event-stream answers).
import { startMcpUpstream } from '@bastion-mcp/testkit';
import { reportReady } from '../lib/spawn.mjs';

const mode = process.argv[2] ?? 'json';
const up = await startMcpUpstream({ stateless: true, jsonResponse: mode === 'json' });
// The fixture records every request for tests; drop the records so the benchmark measures no leak.
setInterval(() => up.clearRequests(), 500).unref();
reportReady({ url: up.url });
process.on('SIGTERM', async () => {
  await up.close();
  process.exit(0);
});
