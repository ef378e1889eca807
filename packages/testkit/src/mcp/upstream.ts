import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { type Implementation, isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { closeHttpServer, listenServer } from '../ports.js';
import { builtinTools } from './builtin-tools.js';
import { applyFault, UPSTREAM_FAULTS, type UpstreamFault } from './faults.js';
import { type Latch, LatchRegistry } from './latch.js';
import { type RecordedRequest, readBody, recordRequest, tryParseJson } from './recorder.js';
import { createUpstreamServer } from './server-factory.js';
import type { UpstreamTool } from './tool.js';

/** Options of {@link startMcpUpstream}. Every field is optional. */
export interface McpUpstreamOptions {
  /** Path prefix of every MCP route, e.g. `'/api/v1'` → `/api/v1/mcp`, `/api/v1/sse`. Default `''`. */
  basePath?: string;
  /** Stateless streamable HTTP: no `Mcp-Session-Id`, a fresh server per POST, GET/DELETE answer 405. Default `false`. */
  stateless?: boolean;
  /** Answer streamable POSTs with `application/json` instead of an SSE stream. Default `false`. */
  jsonResponse?: boolean;
  /** Paginate `tools/list` with this many tools per page (opaque `nextCursor`). Default: no pagination. */
  pageSize?: number;
  /** Serve the built-in tools (echo, add, progress, …). Default `true`. */
  builtinTools?: boolean;
  /** Extra tools, listed after the built-in ones; a tool with a built-in's name replaces it. Default `[]`. */
  tools?: readonly UpstreamTool[];
  /** Serve the `greeting` prompt and the `demo://readme` / `demo://secret` resources. Default `true`. */
  demoContent?: boolean;
  /** Called on every new McpServer (per session, or per request when stateless) before it connects: add prompts, resources, capabilities. */
  configure?: (server: McpServer) => void;
  /** `serverInfo` of the initialize result. Default `{ name: 'bastion-test-upstream', version: '1.0.0' }`. */
  serverInfo?: Implementation;
  /**
   * Decides per request whether it is authorised. `false` → 401 with
   * `WWW-Authenticate: Bearer resource_metadata="<origin>/.well-known/oauth-protected-resource<route>"`
   * (plus `error="invalid_token"` when an `Authorization` header was sent). Default: everything allowed.
   */
  requireAuth?: (request: RecordedRequest) => boolean | Promise<boolean>;
  /** `authorization_servers` of the served protected-resource metadata. Default `[]`. */
  authorizationServers?: readonly string[];
  /**
   * `scopes_supported` of the served protected-resource metadata (RFC 9728), so OAuth clients can
   * pick scopes from PRM when the challenge names none. Default: the member is omitted.
   */
  scopesSupported?: readonly string[];
  /** Replaces the `WWW-Authenticate` value of the 401 above. */
  wwwAuthenticate?: string;
  /**
   * Runs for every request after it was recorded and before anything else. Return `true` (or send a
   * response) to take over the request.
   */
  onRequest?: (
    request: RecordedRequest,
    res: ServerResponse,
  ) => boolean | undefined | Promise<boolean | undefined>;
  /** Interface to listen on. Default `'127.0.0.1'`. */
  host?: string;
  /** Port to listen on (use a fixed one to restart an upstream on the same address). Default `0`. */
  port?: number;
}

/** A running test upstream. */
export interface McpUpstream {
  /** Streamable HTTP endpoint, e.g. `http://127.0.0.1:<port>/mcp`. */
  readonly url: string;
  /** Legacy HTTP+SSE endpoint, e.g. `http://127.0.0.1:<port>/sse`. */
  readonly sseUrl: string;
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  readonly port: number;
  /** The configured path prefix (`''` when none). */
  readonly basePath: string;
  /** Every inbound HTTP request in arrival order (live view; cleared by `clearRequests()`). */
  readonly requests: readonly RecordedRequest[];
  /** Recorded requests whose JSON-RPC method is `method` (all JSON-RPC requests when omitted). */
  rpcRequests(method?: string): RecordedRequest[];
  clearRequests(): void;
  /** The named test-controlled latch (created on first use, shared by all sessions). */
  latch(name: string): Latch;
  /**
   * Makes the next `count` streamable POSTs carrying a JSON-RPC request fail as `fault` describes
   * (`count` defaults to every such request until `setFault(null)`).
   */
  setFault(fault: UpstreamFault | null, options?: { count?: number }): void;
  /** Open MCP sessions (streamable + legacy SSE). */
  readonly sessionCount: number;
  /** Closes every transport, server and socket. Idempotent. */
  close(): Promise<void>;
}

interface Session {
  transport: StreamableHTTPServerTransport | SSEServerTransport;
  server: McpServer;
}

const DEFAULT_SERVER_INFO: Implementation = { name: 'bastion-test-upstream', version: '1.0.0' };

function validateOptions(options: McpUpstreamOptions): void {
  const { basePath, pageSize, tools, port } = options;
  if (
    basePath !== undefined &&
    (typeof basePath !== 'string' || (basePath !== '' && !/^\/.*[^/]$/.test(basePath)))
  ) {
    throw new TypeError('"basePath" must be empty or start with "/" and not end with "/"');
  }
  if (pageSize !== undefined && (!Number.isSafeInteger(pageSize) || pageSize < 1)) {
    throw new TypeError('"pageSize" must be a positive integer');
  }
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new TypeError('"port" must be an integer between 0 and 65535');
  }
  if (tools !== undefined && !Array.isArray(tools)) throw new TypeError('"tools" must be an array');
  const scopes = options.scopesSupported;
  if (
    scopes !== undefined &&
    (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string' || s === '' || /\s/.test(s)))
  ) {
    throw new TypeError('"scopesSupported" must be an array of scope tokens (non-empty, no whitespace)');
  }
  for (const key of ['requireAuth', 'onRequest', 'configure'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'function') {
      throw new TypeError(`"${key}" must be a function`);
    }
  }
}

function mergeTools(options: McpUpstreamOptions): UpstreamTool[] {
  const merged = new Map<string, UpstreamTool>();
  if (options.builtinTools !== false) for (const tool of builtinTools()) merged.set(tool.name, tool);
  for (const tool of options.tools ?? []) {
    if (typeof tool?.name !== 'string' || typeof tool.handler !== 'function') {
      throw new TypeError('"tools" entries need a string "name" and a "handler" function');
    }
    merged.set(tool.name, tool);
  }
  return [...merged.values()];
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function rpcError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  id: unknown = null,
): void {
  sendJson(res, status, { jsonrpc: '2.0', error: { code, message }, id });
}

function isJsonRpcRequest(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'method' in body && 'id' in body;
}

/** Sets `record.status` as soon as the response head is sent (streams included), not only at the end. */
function trackStatus(res: ServerResponse, record: RecordedRequest): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    const result = (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
    record.status = this.statusCode;
    return result;
  } as ServerResponse['writeHead'];
  const onDone = (): void => {
    if (res.headersSent) record.status = res.statusCode;
  };
  res.once('finish', onDone);
  res.once('close', onDone);
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Starts a real MCP server (the SDK's McpServer behind its Streamable HTTP and legacy HTTP+SSE
 * transports) on `127.0.0.1`, port 0 by default. It records every request and offers latches,
 * pagination, an auth gate and fault injection for tests.
 *
 * @example
 * const up = await startMcpUpstream({ pageSize: 3 });
 * const client = new Client({ name: 't', version: '1' });
 * await client.connect(new StreamableHTTPClientTransport(new URL(up.url)));
 * await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
 * await client.close();
 * await up.close();
 */
export async function startMcpUpstream(options: McpUpstreamOptions = {}): Promise<McpUpstream> {
  validateOptions(options);
  const basePath = options.basePath ?? '';
  const mcpPath = `${basePath}/mcp`;
  const ssePath = `${basePath}/sse`;
  const messagesPath = `${basePath}/messages`;
  const prmPrefix = '/.well-known/oauth-protected-resource';
  const latches = new LatchRegistry();
  const tools = mergeTools(options);
  const requests: RecordedRequest[] = [];
  const streamableSessions = new Map<string, Session>();
  const sseSessions = new Map<string, Session>();
  const statelessSessions = new Set<Session>();
  let fault: { kind: UpstreamFault; remaining: number } | null = null;
  let closed = false;
  let origin = '';

  const newServer = (): McpServer =>
    createUpstreamServer({
      serverInfo: options.serverInfo ?? DEFAULT_SERVER_INFO,
      tools,
      pageSize: options.pageSize,
      latches,
      demoContent: options.demoContent !== false,
      configure: options.configure,
    });

  // McpServer.close() closes its transport; the transport's onclose (wrapped by the SDK's Protocol)
  // then tears the server side down, so transports' onclose handlers below only forget the session.
  const closeSession = async (session: Session): Promise<void> => {
    await session.server.close();
  };

  const takeFault = (): UpstreamFault | null => {
    if (fault === null) return null;
    const kind = fault.kind;
    fault.remaining -= 1;
    if (fault.remaining <= 0) fault = null;
    return kind;
  };

  const challenge = (record: RecordedRequest, route: string): string => {
    if (options.wwwAuthenticate !== undefined) return options.wwwAuthenticate;
    const parts = [`resource_metadata="${origin}${prmPrefix}${route}"`];
    if (record.headers.authorization !== undefined) parts.push('error="invalid_token"');
    return `Bearer ${parts.join(', ')}`;
  };

  const handleStreamable = async (
    req: IncomingMessage,
    res: ServerResponse,
    record: RecordedRequest,
  ): Promise<void> => {
    const body = record.body;
    if (req.method === 'POST' && isJsonRpcRequest(body)) {
      const kind = takeFault();
      if (kind !== null) {
        applyFault(kind, res);
        return;
      }
    }
    if (options.stateless === true) {
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST', 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            jsonrpc: '2.0',
            error: { code: -32000, message: 'Method not allowed.' },
            id: null,
          }),
        );
        return;
      }
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: options.jsonResponse === true,
      });
      const session: Session = { transport, server: newServer() };
      statelessSessions.add(session);
      res.on('close', () => {
        statelessSessions.delete(session);
        void closeSession(session);
      });
      await session.server.connect(transport);
      await transport.handleRequest(req, res, body);
      return;
    }
    const sessionId = headerValue(req, 'mcp-session-id');
    if (sessionId !== undefined) {
      const session = streamableSessions.get(sessionId);
      if (session === undefined) {
        rpcError(res, 404, -32001, 'Session not found', (body as { id?: unknown } | undefined)?.id ?? null);
        return;
      }
      await (session.transport as StreamableHTTPServerTransport).handleRequest(req, res, body);
      return;
    }
    if (req.method === 'POST' && isInitializeRequest(body)) {
      const server = newServer();
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: options.jsonResponse === true,
        onsessioninitialized: (id) => {
          streamableSessions.set(id, { transport, server });
        },
        onsessionclosed: (id) => {
          streamableSessions.delete(id);
        },
      });
      transport.onclose = () => {
        if (transport.sessionId !== undefined) streamableSessions.delete(transport.sessionId);
      };
      await server.connect(transport);
      await transport.handleRequest(req, res, body);
      return;
    }
    rpcError(res, 400, -32000, 'Bad Request: No valid session ID provided');
  };

  const handleSseStream = async (res: ServerResponse): Promise<void> => {
    const transport = new SSEServerTransport(messagesPath, res);
    const session: Session = { transport, server: newServer() };
    sseSessions.set(transport.sessionId, session);
    transport.onclose = () => {
      sseSessions.delete(transport.sessionId);
    };
    await session.server.connect(transport);
  };

  const handleSseMessage = async (
    req: IncomingMessage,
    res: ServerResponse,
    record: RecordedRequest,
  ): Promise<void> => {
    const sessionId = record.query['sessionId'];
    const session = sessionId === undefined ? undefined : sseSessions.get(sessionId);
    if (session === undefined) {
      rpcError(res, 404, -32001, 'Session not found');
      return;
    }
    await (session.transport as SSEServerTransport).handlePostMessage(req, res, record.body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const rawBody = (await readBody(req)).toString('utf8');
    const record = recordRequest(req, rawBody);
    requests.push(record);
    trackStatus(res, record);
    if (options.onRequest !== undefined) {
      const handled = await options.onRequest(record, res);
      if (handled === true || res.headersSent || res.writableEnded) return;
    }
    const { path } = record;
    if (req.method === 'GET' && (path === prmPrefix || path.startsWith(`${prmPrefix}/`))) {
      sendJson(res, 200, {
        resource: `${origin}${path.slice(prmPrefix.length)}`,
        authorization_servers: [...(options.authorizationServers ?? [])],
        ...(options.scopesSupported ? { scopes_supported: [...options.scopesSupported] } : {}),
        bearer_methods_supported: ['header'],
      });
      return;
    }
    const isMcp = path === mcpPath;
    const isSse = path === ssePath && req.method === 'GET';
    const isMessages = path === messagesPath && req.method === 'POST';
    if (!isMcp && !isSse && !isMessages) {
      sendJson(res, 404, { error: 'not_found', path });
      return;
    }
    if (options.requireAuth !== undefined && !(await options.requireAuth(record))) {
      sendJson(
        res,
        401,
        { error: 'invalid_token', error_description: 'Authentication required' },
        { 'www-authenticate': challenge(record, isMcp ? mcpPath : ssePath) },
      );
      return;
    }
    if (rawBody.trim() !== '' && !tryParseJson(rawBody).ok) {
      rpcError(res, 400, -32700, 'Parse error');
      return;
    }
    if (isMcp) await handleStreamable(req, res, record);
    else if (isSse) await handleSseStream(res);
    else await handleSseMessage(req, res, record);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        rpcError(res, 500, -32603, error instanceof Error ? error.message : 'Internal error');
      } else {
        res.destroy();
      }
    });
  });
  const address = await listenServer(server, options.port ?? 0, options.host ?? '127.0.0.1');
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  origin = `http://${host}:${address.port}`;

  return {
    url: `${origin}${mcpPath}`,
    sseUrl: `${origin}${ssePath}`,
    origin,
    port: address.port,
    basePath,
    requests,
    rpcRequests: (method) =>
      requests.filter((r) => (method === undefined ? isJsonRpcRequest(r.body) : r.rpcMethod === method)),
    clearRequests: () => {
      requests.length = 0;
    },
    latch: (name) => latches.get(name),
    setFault: (kind, faultOptions) => {
      if (kind === null) {
        fault = null;
        return;
      }
      if (!UPSTREAM_FAULTS.includes(kind))
        throw new TypeError(`"fault" must be one of ${UPSTREAM_FAULTS.join(', ')}`);
      const count = faultOptions?.count ?? Number.POSITIVE_INFINITY;
      if (!(count >= 1)) throw new TypeError('"count" must be at least 1');
      fault = { kind, remaining: count };
    },
    get sessionCount() {
      return streamableSessions.size + sseSessions.size;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      const sessions = [...streamableSessions.values(), ...sseSessions.values(), ...statelessSessions];
      streamableSessions.clear();
      sseSessions.clear();
      statelessSessions.clear();
      try {
        await Promise.allSettled(sessions.map(closeSession));
      } finally {
        latches.releaseAll();
        await closeHttpServer(server);
      }
    },
  };
}
