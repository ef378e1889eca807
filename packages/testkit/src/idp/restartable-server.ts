import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeHttpServer, listenServer } from '../ports.js';

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * An HTTP server on 127.0.0.1 that can be stopped and started again on the SAME port, to simulate
 * a dependency going down and coming back. `stop()` destroys open connections (keep-alive ones
 * included) so clients see a refused/reset connection, not a hang.
 */
export class RestartableServer {
  readonly #listener: RequestListener;
  readonly #host: string;
  #server: Server | undefined;
  #port = 0;
  #closed = false;

  constructor(listener: RequestListener, host = '127.0.0.1') {
    this.#listener = listener;
    this.#host = host;
  }

  /** Port bound by the first `start()`; reused by every later start. */
  get port(): number {
    return this.#port;
  }

  get origin(): string {
    return `http://${this.#host}:${this.#port}`;
  }

  get running(): boolean {
    return this.#server?.listening === true;
  }

  async start(): Promise<void> {
    if (this.#closed) throw new Error('server was closed');
    if (this.running) return;
    const server = createServer(this.#listener);
    // Keep-alive sockets would make a stop/start cycle look seamless to pooled clients; a short
    // timeout keeps idle test connections from lingering without affecting request handling.
    server.keepAliveTimeout = 1_000;
    const address: AddressInfo = await listenServer(server, this.#port, this.#host);
    this.#port = address.port;
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server) await closeHttpServer(server);
  }

  async close(): Promise<void> {
    await this.stop();
    this.#closed = true;
  }
}
