/** Start a node:http server running the proxy handler. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type CloseOptions, createProxyHandler, type ProxyHandler } from './handler.js';
import { DEFAULT_SERVER_TIMEOUTS, type ProxyServerOptions, type ProxyServerTimeouts } from './options.js';

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

function resolveTimeouts(server: ProxyServerTimeouts | undefined): Required<ProxyServerTimeouts> {
  if (server !== undefined && (typeof server !== 'object' || server === null)) {
    throw new TypeError('"server" must be an object');
  }
  const out = { ...DEFAULT_SERVER_TIMEOUTS };
  for (const key of Object.keys(out) as Array<keyof typeof out>) {
    const value = server?.[key];
    if (value === undefined) continue;
    const min = key === 'requestTimeoutMs' ? 0 : 1;
    if (!Number.isSafeInteger(value) || value < min) {
      throw new TypeError(
        `"server.${key}" must be a ${min === 0 ? 'non-negative' : 'positive'} integer (ms)`,
      );
    }
    out[key] = value as never;
  }
  if (out.requestTimeoutMs > 0 && out.headersTimeoutMs > out.requestTimeoutMs) {
    throw new TypeError('"server.headersTimeoutMs" must not exceed "server.requestTimeoutMs"');
  }
  return out;
}

/** The status line answered to a client whose request node:http refused before the handler ran. */
function clientErrorAnswer(err: NodeJS.ErrnoException): string {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return '408 Request Timeout';
  if (err.code === 'HPE_HEADER_OVERFLOW') return '431 Request Header Fields Too Large';
  return '400 Bad Request';
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
  const timeouts = resolveTimeouts(options.server);
  const handler = createProxyHandler({ ...options, host });
  const server = createServer(
    {
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      connectionsCheckingInterval: timeouts.connectionsCheckingIntervalMs,
    },
    (req, res) => {
      void handler.handle(req, res);
    },
  );
  server.keepAliveTimeout = timeouts.keepAliveTimeoutMs;
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (socket.writable)
      socket.end(`HTTP/1.1 ${clientErrorAnswer(err)}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
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
