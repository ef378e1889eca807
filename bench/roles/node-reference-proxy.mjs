// Yardstick, not a product: the least a Node.js reverse proxy can do for the benchmark's request — a
// node:http server that pipes the body to an undici Pool and the answer back, copying three headers. No
// JSON-RPC parsing, limits, header policy, abort handling, timeouts or request ids. Its added latency is
// what any single-threaded Node proxy costs on this machine, the floor under Bastion's passthrough.
import { createServer } from 'node:http';
import { Pool } from 'undici';
import { reportReady } from '../lib/spawn.mjs';

const upstream = new URL(process.argv[2]);
const pool = new Pool(upstream.origin, { connections: 32, keepAliveTimeout: 30_000 });
const REQUEST_HEADERS = ['content-type', 'accept', 'mcp-protocol-version'];
const RESPONSE_HEADERS = ['content-type', 'content-length', 'cache-control'];

const server = createServer(async (req, res) => {
  try {
    const headers = {};
    for (const k of REQUEST_HEADERS) if (req.headers[k] !== undefined) headers[k] = req.headers[k];
    const up = await pool.request({ path: upstream.pathname, method: req.method, headers, body: req });
    const out = {};
    for (const k of RESPONSE_HEADERS) if (up.headers[k] !== undefined) out[k] = up.headers[k];
    res.writeHead(up.statusCode, out);
    up.body.pipe(res);
  } catch {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  }
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  reportReady({ url: `http://127.0.0.1:${server.address().port}${upstream.pathname}` }, server);
});
process.on('SIGTERM', () => process.exit(0));
