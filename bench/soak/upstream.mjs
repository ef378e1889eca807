// Soak upstream: a bare node:http MCP-shaped server in its own process. `tools/call` of `subscribe`
// answers with an SSE stream that stays open and sends a `notifications/progress` event every
// SOAK_STREAM_EVENT_MS (default 5000); every other request gets a small JSON-RPC result at once.
import { createServer } from 'node:http';
import { reportReady } from '../lib/spawn.mjs';

const eventMs = Number(process.env.SOAK_STREAM_EVENT_MS ?? 5000);
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let msg = {};
    try {
      msg = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      // answered below with id null
    }
    const id = msg.id ?? null;
    if (msg.method === 'tools/call' && msg.params?.name === 'subscribe') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      let n = 0;
      const tick = setInterval(() => {
        n++;
        res.write(
          `event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: id, progress: n } })}\n\n`,
        );
      }, eventMs);
      res.on('close', () => clearInterval(tick));
      return;
    }
    const result =
      msg.method === 'tools/list'
        ? {
            tools: [
              { name: 'echo', inputSchema: { type: 'object' } },
              { name: 'subscribe', inputSchema: { type: 'object' } },
            ],
          }
        : { content: [{ type: 'text', text: String(msg.params?.arguments?.text ?? '') }] };
    const body = JSON.stringify({ jsonrpc: '2.0', id, result });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  reportReady({ url: `http://127.0.0.1:${server.address().port}/mcp` }, server);
});
process.on('SIGTERM', () => process.exit(0));
