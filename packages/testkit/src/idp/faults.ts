import type { ServerResponse } from 'node:http';

/**
 * Faults an endpoint can be told to produce:
 * - `'500'` / `'503'`: that status with an OAuth-style JSON error body (`503` adds `Retry-After: 1`);
 * - `'malformed'`: `200` with `Content-Type: application/json` and a body that is not JSON;
 * - `'empty-json'`: `200` with `{}` (a syntactically valid answer missing every expected field);
 * - `'slow'`: the request is held (no response bytes) until the fault is cleared, then served
 *   normally; clients with a timeout see it fire. Held requests are released on `stop()`/`close()`.
 * - `'reset'`: the connection is destroyed without a response.
 */
export type EndpointFault = '500' | '503' | 'malformed' | 'empty-json' | 'slow' | 'reset';

export const ENDPOINT_FAULTS: readonly EndpointFault[] = [
  '500',
  '503',
  'malformed',
  'empty-json',
  'slow',
  'reset',
];

export function assertFault(value: unknown, option: string): asserts value is EndpointFault | null {
  if (value !== null && !ENDPOINT_FAULTS.includes(value as EndpointFault)) {
    throw new TypeError(`${option} must be one of ${ENDPOINT_FAULTS.join(', ')} or null`);
  }
}

/**
 * Holds requests for the `'slow'` fault. `hold()` resolves when `releaseAll()` is called (fault
 * cleared, server stopped or closed).
 */
export class SlowGate {
  #waiters: Array<() => void> = [];

  hold(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  releaseAll(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const release of waiters) release();
  }

  get held(): number {
    return this.#waiters.length;
  }
}

/**
 * Writes the answer of a non-slow fault. Returns false for `'slow'` (the caller holds the request
 * and serves it normally once released).
 */
export function writeFault(res: ServerResponse, fault: EndpointFault): boolean {
  switch (fault) {
    case '500':
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'server_error', error_description: 'injected fault' }));
      return true;
    case '503':
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end(JSON.stringify({ error: 'temporarily_unavailable', error_description: 'injected fault' }));
      return true;
    case 'malformed':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"access_token": "trunc');
      return true;
    case 'empty-json':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
      return true;
    case 'reset':
      res.socket?.destroy();
      return true;
    case 'slow':
      return false;
  }
}
