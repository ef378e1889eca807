/**
 * An MCP 2025-03-26 style remote: the testkit MCP upstream (a real SDK server behind real HTTP) with
 * no protected-resource metadata and its authorization server on the same origin. The AS is a small
 * OAuth 2.1 server emulated in the upstream's `onRequest` hook, as the conformance suite does: RFC
 * 7591 registration, an authorization endpoint that approves at once (302 to the redirect URI), a
 * token endpoint that checks the client, the single-use code and the PKCE S256 verifier. Its
 * metadata is served at the origin (optionally under a route prefix) or not at all.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { type McpUpstream, type RecordedRequest, startMcpUpstream } from '@bastion-mcp/testkit';

export interface LegacyServerOptions {
  /** RFC 8414 metadata at `<origin>/.well-known/oauth-authorization-server`. Default true. */
  metadata?: boolean;
  /** Prefix of the AS endpoints (the conformance backcompat scenario uses `/oauth`). Default ''. */
  routePrefix?: string;
  /** `issuer` of the served metadata. Default: the origin. */
  issuer?: (origin: string) => string;
  /** MCP path prefix, e.g. `/api/v1` → `/api/v1/mcp`. Default ''. */
  basePath?: string;
}

export interface LegacyServer {
  up: McpUpstream;
  /** The MCP endpoint. */
  url: string;
  origin: string;
  /** `METHOD /path` of every request that is not an MCP request, in order. */
  requests: string[];
  registrations: Record<string, unknown>[];
  authorizations: Record<string, string>[];
  tokenRequests: Record<string, string>[];
  /** Per-request override of the PRM paths (default: 404 like a 2025-03-26 server). */
  prm: { status: number; body?: unknown } | undefined;
  /** Status of the metadata URLs when `metadata` is false (default 404). */
  metadataStatus: number;
  clear(): void;
  close(): Promise<void>;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): true {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(body === undefined ? '' : JSON.stringify(body));
  return true;
}

/** Follows the emulated authorization endpoint's redirect to the client's loopback callback. */
export async function approve(authorizationUrl: string): Promise<void> {
  const res = await fetch(authorizationUrl, { redirect: 'manual' });
  await res.body?.cancel();
  const location = res.headers.get('location');
  if (res.status !== 302 || !location) throw new Error(`authorization answered ${res.status}`);
  const callback = await fetch(location);
  await callback.body?.cancel();
}

export async function startLegacyServer(options: LegacyServerOptions = {}): Promise<LegacyServer> {
  const prefix = options.routePrefix ?? '';
  const clients = new Map<string, { secret: string; redirectUris: string[] }>();
  const codes = new Map<string, { clientId: string; challenge: string; redirectUri: string }>();
  const tokens = new Set<string>();
  let origin = '';

  const server: LegacyServer = {
    up: undefined as unknown as McpUpstream,
    url: '',
    origin: '',
    requests: [],
    registrations: [],
    authorizations: [],
    tokenRequests: [],
    prm: undefined,
    metadataStatus: 404,
    clear() {
      server.requests.length = 0;
      server.registrations.length = 0;
      server.authorizations.length = 0;
      server.tokenRequests.length = 0;
      server.prm = undefined;
      server.metadataStatus = 404;
      server.up.clearRequests();
    },
    close: () => server.up.close(),
  };

  const issuer = () => options.issuer?.(origin) ?? origin;
  const metadata = () => ({
    issuer: issuer(),
    authorization_endpoint: `${origin}${prefix}/authorize`,
    token_endpoint: `${origin}${prefix}/token`,
    registration_endpoint: `${origin}${prefix}/register`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
  });

  const onRequest = (req: RecordedRequest, res: ServerResponse): boolean | undefined => {
    const mcpPath = `${options.basePath ?? ''}/mcp`;
    if (req.path === mcpPath) return undefined; // the real MCP server (requireAuth below)
    server.requests.push(`${req.method} ${req.path}`);
    if (req.path.startsWith('/.well-known/oauth-protected-resource')) {
      return send(res, server.prm?.status ?? 404, server.prm?.body ?? { error: 'not_found' });
    }
    if (
      req.path === '/.well-known/oauth-authorization-server' ||
      req.path === '/.well-known/openid-configuration'
    ) {
      if (options.metadata === false || req.path === '/.well-known/openid-configuration') {
        return send(res, options.metadata === false ? server.metadataStatus : 404, { error: 'not_found' });
      }
      return send(res, 200, metadata());
    }
    if (req.method === 'POST' && req.path === `${prefix}/register`) {
      const body = req.body as Record<string, unknown>;
      server.registrations.push(body);
      const clientId = `client-${randomBytes(6).toString('hex')}`;
      const secret = randomBytes(16).toString('base64url');
      const redirectUris = Array.isArray(body['redirect_uris']) ? (body['redirect_uris'] as string[]) : [];
      clients.set(clientId, { secret, redirectUris });
      return send(res, 201, { client_id: clientId, client_secret: secret, redirect_uris: redirectUris });
    }
    if (req.method === 'GET' && req.path === `${prefix}/authorize`) {
      const q = req.query;
      server.authorizations.push({ ...q });
      const client = clients.get(q['client_id'] ?? '');
      const redirectUri = q['redirect_uri'] ?? '';
      if (!client?.redirectUris.includes(redirectUri)) return send(res, 400, { error: 'invalid_client' });
      if (q['code_challenge_method'] !== 'S256' || !q['code_challenge']) {
        return send(res, 400, { error: 'invalid_request' });
      }
      const code = randomBytes(12).toString('base64url');
      codes.set(code, { clientId: q['client_id']!, challenge: q['code_challenge'], redirectUri });
      const target = new URL(redirectUri);
      target.searchParams.set('code', code);
      if (q['state']) target.searchParams.set('state', q['state']);
      res.writeHead(302, { location: target.href }).end();
      return true;
    }
    if (req.method === 'POST' && req.path === `${prefix}/token`) {
      const params = Object.fromEntries(new URLSearchParams(req.rawBody));
      server.tokenRequests.push(params);
      let clientId = params['client_id'];
      let secret = params['client_secret'];
      const basic = req.headers.authorization;
      if (typeof basic === 'string' && basic.startsWith('Basic ')) {
        const [id, pw] = Buffer.from(basic.slice(6), 'base64').toString('utf8').split(':');
        clientId = decodeURIComponent(id ?? '');
        secret = decodeURIComponent(pw ?? '');
      }
      const client = clients.get(clientId ?? '');
      if (!client || (secret !== undefined && secret !== client.secret)) {
        return send(res, 401, { error: 'invalid_client' });
      }
      const grant = codes.get(params['code'] ?? '');
      codes.delete(params['code'] ?? '');
      const verifier = params['code_verifier'] ?? '';
      const computed = createHash('sha256').update(verifier).digest('base64url');
      if (
        params['grant_type'] !== 'authorization_code' ||
        !grant ||
        grant.clientId !== clientId ||
        grant.redirectUri !== params['redirect_uri'] ||
        grant.challenge !== computed
      ) {
        return send(res, 400, { error: 'invalid_grant' });
      }
      const token = randomBytes(24).toString('base64url');
      tokens.add(token);
      return send(res, 200, { access_token: token, token_type: 'Bearer', expires_in: 3600 });
    }
    return send(res, 404, { error: 'not_found' });
  };

  server.up = await startMcpUpstream({
    basePath: options.basePath,
    // A 2025-03-26 challenge: Bearer, no resource_metadata.
    wwwAuthenticate: 'Bearer realm="mcp", error="invalid_token"',
    requireAuth: (req) => {
      const h = req.headers.authorization;
      return typeof h === 'string' && h.startsWith('Bearer ') && tokens.has(h.slice(7));
    },
    onRequest,
  });
  origin = server.up.origin;
  server.origin = origin;
  server.url = server.up.url;
  return server;
}
