/**
 * The conformance reference upstream: a real MCP server (SDK `McpServer` + Streamable HTTP transport,
 * stateful sessions, resumable SSE with an event store and a `retry` hint) on 127.0.0.1 that serves the
 * tool/resource/prompt set of the MCP conformance suite's server scenarios, and validates Host/Origin
 * like a localhost server must (DNS-rebinding scenario).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createEventStore } from './event-store.js';
import { createModernEndpoint, type ModernEndpointOptions } from './modern/upstream.js';
import { isLocalRequest } from './local-host.js';
import { createReferenceServer } from './server.js';

export { isLocalRequest };

export interface ReferenceUpstreamOptions extends ModernEndpointOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string | undefined;
  /** Port. Default 0 (a free one). */
  port?: number | undefined;
  /** `retry:` hint (ms) sent on SSE streams (SEP-1699 polling). Default 500. */
  retryIntervalMs?: number | undefined;
  /** Largest request body accepted, bytes. Default 4 MiB. */
  maxBodyBytes?: number | undefined;
}

export interface ReferenceUpstream {
  /** Streamable HTTP endpoint `http://127.0.0.1:<port>/mcp`. */
  readonly url: string;
  readonly port: number;
  /** Open MCP sessions. */
  readonly sessionCount: number;
  close(): Promise<void>;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  server: McpServer;
}

/** Protocol revisions of the session era (initialize handshake, `Mcp-Session-Id`). */
export const LEGACY_PROTOCOL_VERSIONS: readonly string[] = [
  '2024-11-05',
  '2025-03-26',
  '2025-06-18',
  '2025-11-25',
];

/**
 * Era of a request (the rule of the suite's own fixture): a session id, or neither a modern
 * `MCP-Protocol-Version` header nor a `_meta` protocol version, means the session era; anything else —
 * including an unknown version — is answered by the stateless 2026-07-28 endpoint.
 */
export function isModernRequest(headers: IncomingMessage['headers'], body?: unknown): boolean {
  if (headers['mcp-session-id'] !== undefined) return false;
  const version = headers['mcp-protocol-version'];
  if (typeof version === 'string' && version.trim() !== '') {
    return !LEGACY_PROTOCOL_VERSIONS.includes(version.trim());
  }
  const params = (body as { params?: { _meta?: Record<string, unknown> } } | null)?.params;
  return typeof params?._meta?.['io.modelcontextprotocol/protocolVersion'] === 'string';
}

function rpcError(res: ServerResponse, status: number, code: number, message: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

async function readJson(
  req: IncomingMessage,
  max: number,
): Promise<{ ok: true; value: unknown } | { ok: false }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) return { ok: false };
    chunks.push(chunk);
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

function validate(options: ReferenceUpstreamOptions) {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new TypeError('"port" must be an integer 0-65535');
  const retryIntervalMs = options.retryIntervalMs ?? 500;
  if (!Number.isSafeInteger(retryIntervalMs) || retryIntervalMs < 0) {
    throw new TypeError('"retryIntervalMs" must be a non-negative integer (ms)');
  }
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new TypeError('"maxBodyBytes" must be a positive integer');
  }
  return { host: options.host ?? '127.0.0.1', port, retryIntervalMs, maxBodyBytes };
}

/**
 * Start the reference upstream.
 * @example
 * const up = await startReferenceUpstream();
 * // conformance server --url ${up.url}
 * await up.close();
 */
export async function startReferenceUpstream(
  options: ReferenceUpstreamOptions = {},
): Promise<ReferenceUpstream> {
  const cfg = validate(options);
  const sessions = new Map<string, Session>();
  const modern = createModernEndpoint(options);

  async function openSession(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    let transport!: StreamableHTTPServerTransport;
    const server = createReferenceServer({
      closeRequestStream: (requestId) => transport.closeSSEStream(requestId),
    });
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore: createEventStore(),
      retryInterval: cfg.retryIntervalMs,
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, server });
      },
    });
    transport.onclose = () => {
      const id = transport.sessionId;
      if (id !== undefined && sessions.delete(id)) void server.close().catch(() => {});
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/mcp') return rpcError(res, 404, -32601, 'Not found');
    if (!isLocalRequest(req.headers)) return rpcError(res, 403, -32000, 'Host or Origin not allowed');
    const sessionId = req.headers['mcp-session-id'];
    const session = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (req.method === 'POST') {
      const parsed = await readJson(req, cfg.maxBodyBytes);
      if (!parsed.ok) return rpcError(res, 400, -32700, 'Parse error');
      if (isModernRequest(req.headers, parsed.value)) return modern.handlePost(req, res, parsed.value);
      if (session) return session.transport.handleRequest(req, res, parsed.value);
      if (sessionId !== undefined) return rpcError(res, 404, -32001, 'Session not found');
      if ((parsed.value as { method?: unknown } | null)?.method === 'initialize') {
        return openSession(req, res, parsed.value);
      }
      return rpcError(res, 400, -32000, 'Bad Request: missing session ID');
    }
    if (req.method === 'GET' || req.method === 'DELETE') {
      if (isModernRequest(req.headers)) return modern.handleOther(res);
      if (session) return session.transport.handleRequest(req, res);
      if (sessionId !== undefined) return rpcError(res, 404, -32001, 'Session not found');
      return rpcError(res, 400, -32000, 'Bad Request: missing session ID');
    }
    res.setHeader('allow', 'GET, POST, DELETE');
    return rpcError(res, 405, -32000, 'Method not allowed');
  }

  const sockets = new Set<Socket>();
  const http: Server = createServer((req, res) => {
    handle(req, res).catch(() => rpcError(res, 500, -32603, 'Internal error'));
  });
  http.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(cfg.port, cfg.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const { port } = http.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host}:${port}/mcp`,
    port,
    get sessionCount() {
      return sessions.size;
    },
    close() {
      closing ??= (async () => {
        modern.close();
        const all = [...sessions.values()];
        sessions.clear();
        await Promise.allSettled(
          all.map(async (s) => {
            await s.transport.close();
            await s.server.close();
          }),
        );
        const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await stopped;
      })();
      return closing;
    },
  };
}
