import { createServer, type Server as NetServer } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Returns a TCP port on `host` that was free a moment ago: a listener is bound to port 0, its port
 * read and the listener closed. Use it for "nothing listens here" tests (connection refused); for
 * servers you start yourself prefer listening on port 0 directly, which cannot race.
 *
 * @param host interface to probe. Default `'127.0.0.1'`.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const probe: NetServer = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, host, () => resolve());
  });
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/**
 * Starts `server` listening on `host:port` (default `127.0.0.1:0`) and resolves with the bound
 * address. Rejects with the listen error (e.g. `EADDRINUSE`).
 */
export async function listenServer(
  server: HttpServer | NetServer,
  port = 0,
  host = '127.0.0.1',
): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}

/**
 * Closes an HTTP server and destroys its open connections (keep-alive and streaming ones included),
 * so no socket outlives the call. Resolves once the listener is closed; safe to call twice.
 */
export async function closeHttpServer(server: HttpServer): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}
