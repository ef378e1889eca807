/**
 * End-to-end stack: the testkit MCP upstream (real SDK server) behind proxy-core's real server, with
 * an identity layer that verifies real signed JWTs, then authz.
 *
 * The identity layer stands in for packages/auth (a middleware package authz must not depend on): it
 * verifies the bearer JWT against a JWKS with jose, exactly as the auth middleware does, and puts the
 * resulting Identity on the exchange.
 */
import {
  type Exchange,
  type ExchangeLogger,
  type Identity,
  type Middleware,
  ProxyHttpError,
  startProxyServer,
} from '@bastion-mcp/proxy-core';
import { type McpUpstream, type McpUpstreamOptions, startMcpUpstream } from '@bastion-mcp/testkit';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createLocalJWKSet, exportJWK, generateKeyPair, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { type AuthzMiddleware, createAuthzMiddleware } from '../../src/middleware.js';
import type { AuthzOptions } from '../../src/options.js';

const ISSUER = 'https://idp.test.local';
const AUDIENCE = 'bastion-authz-e2e';

export interface TokenIssuer {
  mint(claims: Record<string, unknown>): Promise<string>;
  verifier(): Middleware;
}

export async function createIssuer(): Promise<TokenIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const jwks = createLocalJWKSet({ keys: [jwk] });
  return {
    mint: (claims) =>
      new SignJWT(claims as JWTPayload)
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey),
    verifier: () => ({
      name: 'auth',
      async handle(exchange: Exchange, next) {
        const header = exchange.request.headers.authorization;
        const token =
          typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined;
        if (!token) {
          throw new ProxyHttpError({
            status: 401,
            rpcCode: -32001,
            publicMessage: 'Unauthorized',
            code: 'ERR_TEST_AUTH',
          });
        }
        const { payload } = await jwtVerify(token, jwks, { issuer: ISSUER, audience: AUDIENCE });
        const list = (v: unknown) =>
          Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
        const identity: Identity = {
          subject: String(payload.sub),
          email: typeof payload.email === 'string' ? payload.email : undefined,
          groups: list(payload.groups),
          roles: list(payload.roles),
          scopes: [],
          claims: payload as Record<string, unknown>,
          tokenKind: 'jwt',
          expiresAt: payload.exp,
        };
        exchange.identity = identity;
        return next();
      },
    }),
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
    middlewares: [issuer.verifier(), authz],
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
    },
  };
}
