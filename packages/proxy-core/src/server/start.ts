/** Start a node:http server running the proxy handler. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type CloseOptions, createProxyHandler, type ProxyHandler } from './handler.js';
import type { ProxyServerOptions } from './options.js';

export interface ProxyServer {
  /** The local MCP endpoint, e.g. `http://127.0.0.1:4321/mcp`. */
  readonly url: string;
  /** `http://host:port`. */
  readonly origin: string;
  readonly port: number;
  readonly server: Server;
  readonly handler: ProxyHandler;
  /** Graceful stop: stop accepting, finish in-flight (up to `graceMs`), end SSE streams, close sockets and pools. */
  close(options?: CloseOptions): Promise<void>;
}

/**
 * Start the proxy.
 * @example
 * const proxy = await startProxyServer({ upstreamUrl: 'https://mcp.example.com/mcp', middlewares: [] });
 * console.log(proxy.url);
 * await proxy.close();
 */
export async function startProxyServer(options: ProxyServerOptions): Promise<ProxyServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new TypeError('"port" must be an integer 0-65535');
  const handler = createProxyHandler({ ...options, host });
  const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
    void handler.handle(req, res);
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const hostPart = addr.family === 'IPv6' || addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  const origin = `http://${hostPart}:${addr.port}`;
  let closed: Promise<void> | undefined;
  return {
    url: `${origin}${handler.options.path}`,
    origin,
    port: addr.port,
    server,
    handler,
    close(closeOptions) {
      closed ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        try {
          await handler.close(closeOptions);
        } finally {
          server.closeIdleConnections();
          // Whatever is left is closed now: ended politely, destroyed if it lingers.
          for (const s of sockets) {
            s.end();
            setTimeout(() => s.destroy(), 1_000).unref();
          }
          await stopped;
        }
      })();
      return closed;
    },
  };
}
