/** Small HTTP helpers for the fault tests (undici, so keep-alive and aborts are explicit). */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type Agent, request } from 'undici';

export const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-06-18',
} as const;

export function rpc(method: string, params: Record<string, unknown> = {}, id: number | string = 1): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method, params });
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

/** POST a JSON-RPC body and read the whole answer (its own connection unless `dispatcher` is given). */
export async function post(
  url: string,
  body: string,
  options: { headers?: Record<string, string>; dispatcher?: Agent; signal?: AbortSignal } = {},
): Promise<Answer> {
  const res = await request(url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, ...options.headers },
    body,
    dispatcher: options.dispatcher,
    signal: options.signal,
  });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json };
}

/** A bare node:http server on 127.0.0.1:0 that tracks its sockets. */
export interface RawServer {
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  readonly server: Server;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Sockets currently open. */
  readonly openSockets: number;
  close(): Promise<void>;
}

export async function startRawServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  path = '/mcp',
): Promise<RawServer> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer(handler);
  server.on('connection', (s) => {
    connections++;
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}${path}`,
    origin,
    port,
    server,
    get connections() {
      return connections;
    },
    get openSockets() {
      return sockets.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

/** Reads a request body as text. */
export async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

/** Answers a JSON-RPC request with `result`, echoing its id. */
export async function answerJson(req: IncomingMessage, res: ServerResponse, result: unknown): Promise<void> {
  const body = await readText(req);
  let id: unknown = null;
  try {
    id = (JSON.parse(body) as { id?: unknown }).id ?? null;
  } catch {
    // keep null
  }
  const out = JSON.stringify({ jsonrpc: '2.0', id, result });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
  res.end(out);
}
