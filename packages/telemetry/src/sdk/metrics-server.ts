/** The separate Prometheus listener (default 127.0.0.1:9464, path `/metrics`). */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TelemetryError, TelemetryErrorCode } from '../errors.js';
import type { MetricsServer, MetricsServerOptions } from '../types.js';

export type MetricsHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Wrap the exporter's handler: `GET`/`HEAD <path>` → metrics, anything else → 404/405 plain text. */
export function createMetricsHandler(path: string, serve: MetricsHandler): MetricsHandler {
  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    if (pathname !== path) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .writeHead(405, { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD' })
        .end('Method not allowed\n');
      return;
    }
    serve(req, res);
  };
}

export async function startMetricsListener(
  handler: MetricsHandler,
  path: string,
  options: MetricsServerOptions = {},
): Promise<MetricsServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 9464;
  if (typeof host !== 'string' || host.length === 0) throw new TypeError('"host" must be a non-empty string');
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new TypeError('"port" must be an integer 0..65535');
  const server = createServer(handler);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      reject(
        new TelemetryError(
          TelemetryErrorCode.ListenFailed,
          `metrics listener could not bind ${host}:${port}`,
          { cause: err },
        ),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${bound}${path}`,
    host,
    port: bound,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
