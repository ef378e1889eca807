/**
 * The loopback redirect target of the authorization code flow: bound to 127.0.0.1 only, on a stable
 * port derived from the server URL (so a pre-registered redirect URI keeps matching), answering one
 * authorization response and then closing.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { CALLBACK_PAGE_HEADERS, callbackPage } from './callback-page.js';
import { OAuthClientError, OAuthClientErrorCode } from './errors.js';
import { canonicalResourceUri } from './internal/url.js';

export const CALLBACK_PORT_MIN = 33400;
export const CALLBACK_PORT_MAX = 33999;

/** Stable callback port of a server URL: sha256 of its canonical form mapped into 33400–33999. */
export function callbackPortFor(serverUrl: string): number {
  const digest = createHash('sha256').update(canonicalResourceUri(serverUrl)).digest();
  return CALLBACK_PORT_MIN + (digest.readUInt32BE(0) % (CALLBACK_PORT_MAX - CALLBACK_PORT_MIN + 1));
}

export interface CallbackServerOptions {
  /** Port to listen on (0 = any free port). */
  port: number;
  /** Host name written into the redirect URI (`127.0.0.1` or `localhost`); the server binds 127.0.0.1 either way. */
  redirectHost?: '127.0.0.1' | 'localhost' | undefined;
  /** Path of the redirect URI. Default: `/callback`. */
  path?: string | undefined;
}

export interface CallbackServer {
  readonly redirectUri: string;
  readonly port: number;
  /**
   * Resolves with the full callback URL of the first request to the callback path (a browser
   * favicon request is ignored). `respond` decides the page shown for it.
   */
  next(
    signal: AbortSignal,
  ): Promise<{ url: URL; respond: (ok: boolean, title: string, detail: string) => void }>;
  close(): Promise<void>;
}

export async function startCallbackServer(options: CallbackServerOptions): Promise<CallbackServer> {
  const path = options.path ?? '/callback';
  if (!path.startsWith('/')) throw new TypeError('"callback.path" must start with "/"');
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new TypeError('"callback.port" must be an integer in 0..65535');
  }
  let waiter:
    | { resolve: (v: { url: URL; respond: (ok: boolean, title: string, detail: string) => void }) => void }
    | undefined;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1`);
    if (url.pathname !== path) {
      res
        .writeHead(404, CALLBACK_PAGE_HEADERS)
        .end(callbackPage(false, 'Not found', 'This is the Bastion login callback.'));
      return;
    }
    if (req.method !== 'GET') {
      res.writeHead(405, { ...CALLBACK_PAGE_HEADERS, allow: 'GET' }).end();
      return;
    }
    if (!waiter) {
      res
        .writeHead(409, CALLBACK_PAGE_HEADERS)
        .end(callbackPage(false, 'No login in progress', 'Start the login again from your terminal.'));
      return;
    }
    const w = waiter;
    waiter = undefined;
    w.resolve({
      url,
      respond: (ok, title, detail) => {
        res
          .writeHead(ok ? 200 : 400, { ...CALLBACK_PAGE_HEADERS, connection: 'close' })
          .end(callbackPage(ok, title, detail));
      },
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') {
        reject(
          new OAuthClientError(
            OAuthClientErrorCode.CallbackPortInUse,
            `The OAuth callback port ${options.port} on 127.0.0.1 is already in use; stop the program using it or choose another callback port`,
            { cause: err },
          ),
        );
      } else {
        reject(err);
      }
    });
    server.listen({ port: options.port, host: '127.0.0.1', exclusive: true }, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.redirectHost ?? '127.0.0.1';
  return {
    redirectUri: `http://${host}:${port}${path}`,
    port,
    next(signal) {
      return new Promise((resolve, reject) => {
        const onAbort = () => {
          waiter = undefined;
          reject(signal.reason);
        };
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        waiter = {
          resolve: (v) => {
            signal.removeEventListener('abort', onAbort);
            resolve(v);
          },
        };
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Give an answered page a moment to flush, then cut whatever is left (e.g. a stalled browser socket).
        setTimeout(() => server.closeAllConnections(), 500).unref();
      });
    },
  };
}
