/**
 * A small real node:http server for PRM / AS-metadata edge cases (path-specific vs root PRM,
 * issuer mismatch, missing S256, …): routes are set per test, every request path is recorded.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Route {
  status?: number;
  headers?: Record<string, string>;
  /** JSON body, or a function of the server origin producing it. */
  body?: unknown | ((origin: string) => unknown);
}

export interface MetadataServer {
  origin: string;
  /** `METHOD /path` of every request, in order. */
  requests: string[];
  route(method: string, path: string, route: Route): void;
  clear(): void;
  close(): Promise<void>;
}

export async function startMetadataServer(): Promise<MetadataServer> {
  const routes = new Map<string, Route>();
  const requests: string[] = [];
  let origin = '';
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', origin).pathname;
    requests.push(`${req.method} ${path}`);
    req.resume();
    const route = routes.get(`${req.method} ${path}`);
    if (!route) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      return;
    }
    const body =
      typeof route.body === 'function' ? (route.body as (o: string) => unknown)(origin) : route.body;
    res.writeHead(route.status ?? 200, { 'content-type': 'application/json', ...(route.headers ?? {}) });
    res.end(body === undefined ? '' : JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    requests,
    route: (method, path, route) => routes.set(`${method} ${path}`, route),
    clear: () => {
      routes.clear();
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A minimal valid RFC 8414 document for `issuer`. */
export function asMetadata(issuer: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    registration_endpoint: `${issuer}/register`,
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    ...extra,
  };
}
