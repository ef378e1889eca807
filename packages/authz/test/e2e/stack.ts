/**
 * End-to-end stack: the testkit MCP upstream (real SDK server) behind proxy-core's real server, with
 * the real auth middleware of packages/auth, then authz. Tokens are real JWT access tokens issued by
 * the testkit IdP (oidc-provider); auth discovers the IdP's JWKS from its issuer and builds the
 * Identity authz evaluates.
 */
import { type AuthMiddleware, createAuthMiddleware } from '@bastion-mcp/auth';
import { type ExchangeLogger, startProxyServer } from '@bastion-mcp/proxy-core';
import {
  type McpUpstream,
  type McpUpstreamOptions,
  startMcpUpstream,
  startTestIdp,
  type TestIdp,
} from '@bastion-mcp/testkit';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type AuthzMiddleware, createAuthzMiddleware } from '../../src/middleware.js';
import type { AuthzOptions } from '../../src/options.js';

export interface TokenIssuer {
  readonly idp: TestIdp;
  /**
   * A real access token for `claims.sub` carrying the other claims (groups, roles, email, nested
   * objects…), issued by the IdP for its JWT resource.
   */
  mint(claims: Record<string, unknown>): Promise<string>;
  /** The real auth middleware, validating tokens of this IdP. */
  auth(): AuthMiddleware;
  close(): Promise<void>;
}

/** Starts a testkit IdP without predefined accounts: a token carries exactly the claims a test gives. */
export async function createIssuer(): Promise<TokenIssuer> {
  const idp = await startTestIdp({ accounts: {} });
  return {
    idp,
    mint: ({ sub, ...claims }) => {
      if (typeof sub !== 'string') throw new TypeError('claims.sub must be a string');
      return idp.issueAccessToken({ sub, claims });
    },
    auth: () => createAuthMiddleware({ issuer: idp.issuer, resource: idp.resource }),
    close: () => idp.close(),
  };
}

export interface Stack {
  readonly url: string;
  readonly upstream: McpUpstream;
  readonly authz: AuthzMiddleware;
  /** Every log line the chain wrote (level, object, message). */
  readonly logs: Array<{ level: string; obj: Record<string, unknown>; msg?: string | undefined }>;
  readonly mint: (claims: Record<string, unknown>) => Promise<string>;
  /** An MCP SDK client logged in with a token for `claims`. */
  client(claims: Record<string, unknown>, capabilities?: Record<string, unknown>): Promise<Client>;
  /** A raw JSON-RPC POST (status, parsed body) with a token for `claims`. */
  post(
    claims: Record<string, unknown>,
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: unknown; contentType: string; headers: Headers }>;
  close(): Promise<void>;
}

export async function startStack(
  authzOptions: AuthzOptions,
  upstreamOptions: McpUpstreamOptions = {},
  serverName = 'demo',
): Promise<Stack> {
  const issuer = await createIssuer();
  const upstream = await startMcpUpstream(upstreamOptions);
  const authz = await createAuthzMiddleware(authzOptions);
  const logs: Stack['logs'] = [];
  const logger = Object.fromEntries(
    ['debug', 'info', 'warn', 'error'].map((level) => [
      level,
      (obj: Record<string, unknown>, msg?: string) => logs.push({ level, obj, msg }),
    ]),
  ) as unknown as ExchangeLogger;
  const proxy = await startProxyServer({
    logger,
    upstreamUrl: upstream.url,
    serverName,
    middlewares: [issuer.auth(), authz],
    host: '127.0.0.1',
    port: 0,
  });
  const clients: Client[] = [];
  return {
    url: proxy.url,
    upstream,
    authz,
    logs,
    mint: issuer.mint,
    async client(claims, capabilities = {}) {
      const token = await issuer.mint(claims);
      const client = new Client({ name: 'authz-e2e', version: '1.0.0' }, { capabilities });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(proxy.url), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      clients.push(client);
      return client;
    },
    async post(claims, body, headers = {}) {
      const token = await issuer.mint(claims);
      const res = await fetch(proxy.url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...headers,
        },
        body: JSON.stringify(body),
      });
      const contentType = res.headers.get('content-type') ?? '';
      const text = await res.text();
      let parsed: unknown = text;
      if (contentType.includes('json')) parsed = JSON.parse(text);
      else if (contentType.includes('event-stream')) {
        parsed = text
          .split('\n')
          .filter((l) => l.startsWith('data: '))
          .map((l) => JSON.parse(l.slice(6)));
      }
      return { status: res.status, body: parsed, contentType, headers: res.headers };
    },
    async close() {
      await Promise.allSettled(clients.map((c) => c.close()));
      await proxy.close();
      await upstream.close();
      await issuer.close();
    },
  };
}
