import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Middleware, Route } from '../middleware.js';

/** Extra routes of the middlewares, matched by method and exact path or `prefix*`. */
export function collectRoutes(middlewares: readonly Middleware[]): Route[] {
  const routes: Route[] = [];
  for (const m of middlewares) {
    for (const r of m.routes ?? []) {
      if (!r || typeof r.handle !== 'function' || typeof r.path !== 'string' || !r.path.startsWith('/')) {
        throw new TypeError(
          `middleware "${m.name}" has an invalid route (needs "method", "/path" and "handle")`,
        );
      }
      routes.push(r);
    }
  }
  return routes;
}

export function matchRoute(routes: readonly Route[], method: string, path: string): Route | undefined {
  const m = method === 'HEAD' ? ['HEAD', 'GET'] : [method];
  for (const r of routes) {
    if (!m.includes(r.method)) continue;
    if (r.path.endsWith('*') ? path.startsWith(r.path.slice(0, -1)) : path === r.path) return r;
  }
  return undefined;
}

export type RawHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
