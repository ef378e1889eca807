// Benchmark upstream standing in for a REMOTE MCP server: it answers after a fixed service delay
// (argv[3] ms, default 5, plus optional uniform jitter ±argv[4] ms) and spends almost no CPU of its own,
// the way a SaaS MCP server's work happens on someone else's machine. The answers are byte for byte what
// the testkit (MCP SDK) upstream sends for the benchmark's `tools/call echo` — same body, same headers,
// JSON or SSE framing (argv[2]) — so the proxy in front does exactly the same work as with the SDK upstream.
//
// Why it exists: the SDK upstream in stateless mode builds a server per request and needs ~1.2 of this
// machine's 2 cores, so in `upstream: sdk` runs the proxy competes with the upstream for CPU and the
// "added latency" mixes proxy work with that contention (and with the SDK's GC pauses, which make the
// direct baseline itself wide). Against this upstream the baseline is tight and the proxy's own cost shows.
import { createServer } from 'node:http';
import { reportReady } from '../lib/spawn.mjs';

const sse = process.argv[2] === 'sse';
const delayMs = Number(process.argv[3] ?? 5);
const jitterMs = Number(process.argv[4] ?? 0);
if (!(delayMs >= 0) || !(jitterMs >= 0) || jitterMs > delayMs) {
  console.error('upstream-remote: delay and jitter must be >= 0 ms, with jitter <= delay');
  process.exit(2);
}

/** The SDK upstream's response headers (bench/roles/upstream.mjs, captured from @modelcontextprotocol/sdk). */
function headersFor(length) {
  return sse
    ? {
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'content-type': 'text/event-stream',
        'x-accel-buffering': 'no',
        'content-length': length,
      }
    : { 'content-type': 'application/json', 'content-length': length };
}

/** The result the SDK upstream gives: `echo` returns its text; anything else gets an empty result. */
function resultFor(msg) {
  if (msg.method === 'tools/call' && msg.params?.name === 'echo') {
    return { content: [{ type: 'text', text: String(msg.params.arguments?.text ?? '') }] };
  }
  if (msg.method === 'tools/list') {
    return {
      tools: [{ name: 'echo', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } }],
    };
  }
  return {};
}

function answer(res, msg) {
  if (msg.id === undefined) {
    res.writeHead(202).end();
    return;
  }
  const json = JSON.stringify({ result: resultFor(msg), jsonrpc: '2.0', id: msg.id });
  const body = sse ? `event: message\ndata: ${json}\n\n` : json;
  res.writeHead(200, headersFor(Buffer.byteLength(body)));
  res.end(body);
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let msg;
    try {
      msg = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}');
      return;
    }
    const wait = jitterMs === 0 ? delayMs : delayMs + (Math.random() * 2 - 1) * jitterMs;
    setTimeout(answer, wait, res, msg);
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  reportReady({ url: `http://127.0.0.1:${server.address().port}/mcp` }, server);
});
process.on('SIGTERM', () => process.exit(0));
