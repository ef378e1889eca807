/**
 * End to end: a real MCP SDK client → proxy-core server with the auth middleware → the testkit MCP
 * upstream (a real SDK server), with real tokens from the testkit IdP (oidc-provider) for the
 * proxy's own URL as resource, the JWKS found through OIDC discovery of the issuer.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Exchange, Identity, Middleware, Next, ProxyServer } from '@bastion-mcp/proxy-core';
import { startProxyServer } from '@bastion-mcp/proxy-core';
import {
  freePort,
  type McpUpstream,
  startMcpUpstream,
  startTestIdp,
  type TestIdp,
} from '@bastion-mcp/testkit';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type AuthMiddleware, createAuthMiddleware } from '../src/index.js';

let idp: TestIdp;
/** Offset of the proxy's clock (auth's `now`), to present a real token after its expiry. */
let clockSkewMs = 0;
let up: McpUpstream;
let proxy: ProxyServer;
let auth: AuthMiddleware;
let resource: string;
const seen: { identity: Identity | undefined; token: string | undefined }[] = [];

/** An inner layer recording what auth handed over (what authz/token-exchange would read). */
const probe: Middleware = {
  name: 'probe',
  async handle(ex: Exchange, next: Next) {
    seen.push({ identity: ex.identity, token: ex.inboundToken });
    return next();
  },
};

beforeAll(async () => {
  up = await startMcpUpstream();
  idp = await startTestIdp();
  // The resource URL is the proxy's own /mcp: reserve the port first, then bind auth to it.
  const port = await freePort();
  resource = `http://127.0.0.1:${port}/mcp`;
  idp.addResource(resource, { format: 'jwt', scopes: ['mcp:tools'] });
  auth = createAuthMiddleware({
    issuer: idp.issuer,
    resource,
    scopesSupported: ['mcp:tools'],
    jwks: { cooldownMs: 0, errorRetryMs: 0 },
    now: () => Date.now() + clockSkewMs,
  });
  proxy = await startProxyServer({
    upstreamUrl: up.url,
    serverName: 'demo',
    port,
    middlewares: [auth, probe],
  });
});

afterEach(() => {
  clockSkewMs = 0;
});

afterAll(async () => {
  await proxy?.close();
  await auth?.close?.();
  await up?.close();
  await idp?.close();
});

async function connect(token: string): Promise<Client> {
  const client = new Client({ name: 'auth-e2e', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(proxy.url), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  return client;
}

describe('auth through the proxy', () => {
  it('lets a valid JWT reach the upstream with identity and claims for inner layers', async () => {
    const token = await idp.issueAccessToken({ sub: 'alice', resource, scope: 'mcp:tools' });
    const client = await connect(token);
    try {
      const result = await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
      expect(JSON.stringify(result.content)).toContain('hi');
    } finally {
      await client.close();
    }
    const last = seen.at(-1);
    expect(last?.identity).toMatchObject({
      subject: 'alice',
      email: 'alice@example.test',
      groups: ['engineering', 'admins'],
      scopes: ['mcp:tools'],
      tokenKind: 'jwt',
    });
    expect(last?.token).toBe(token);
    // proxy-core never forwards the client's Authorization; no credential layer is configured here.
    const calls = up.rpcRequests('tools/call');
    expect(calls.length).toBeGreaterThan(0);
    for (const r of up.requests) expect(r.headers.authorization).toBeUndefined();
  });

  it('answers a request without a token with 401, the challenge and the OAuth body; upstream untouched', async () => {
    const before = up.requests.length;
    const res = await fetch(proxy.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer realm="${idp.issuer}", resource_metadata="${proxy.origin}/.well-known/oauth-protected-resource/mcp", scope="mcp:tools"`,
    );
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toEqual({ error: 'invalid_token', error_description: 'Missing bearer token' });
    expect(up.requests.length).toBe(before);
  });

  it('answers an expired token with error="invalid_token" and never echoes the token', async () => {
    const token = await idp.issueAccessToken({ sub: 'alice', resource, ttlSeconds: 60 });
    // The proxy's clock is two hours ahead: the real token is past its exp (and the tolerance).
    clockSkewMs = 2 * 3600_000;
    const res = await fetch(proxy.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer realm="${idp.issuer}", resource_metadata="${proxy.origin}/.well-known/oauth-protected-resource/mcp", scope="mcp:tools", error="invalid_token", error_description="The access token expired"`,
    );
    const text = await res.text();
    expect(text).not.toContain(token);
    expect(JSON.parse(text)).toEqual({
      error: 'invalid_token',
      error_description: 'The access token expired',
    });
  });

  it('makes the MCP SDK client fail to connect with a real token for another resource', async () => {
    const before = up.requests.length;
    const token = await idp.issueAccessToken({ sub: 'alice', resource: idp.resource });
    await expect(connect(token)).rejects.toThrow();
    expect(up.requests.length).toBe(before);
  });

  it('serves the RFC 9728 metadata and its CORS preflight without a token', async () => {
    const res = await fetch(`${proxy.origin}/.well-known/oauth-protected-resource/mcp`);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await res.json()).toEqual({
      resource,
      authorization_servers: [idp.issuer],
      bearer_methods_supported: ['header'],
      scopes_supported: ['mcp:tools'],
    });
    const pre = await fetch(`${proxy.origin}/.well-known/oauth-protected-resource`, {
      method: 'OPTIONS',
      headers: { origin: 'https://inspector.test', 'access-control-request-method': 'GET' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-methods')).toContain('GET');
  });

  it('reports JWKS readiness on /ready, and keeps serving with cached keys while the IdP is down', async () => {
    await auth.authenticator?.jwks?.refresh();
    const res = await fetch(`${proxy.origin}/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: 'ready',
      checks: { auth: { ready: true, detail: 'JWKS: 1 key(s)' } },
    });

    const token = await idp.issueAccessToken({ sub: 'bob', resource, scope: 'mcp:tools' });
    await idp.stop();
    try {
      await expect(auth.authenticator?.jwks?.refresh()).rejects.toThrow();
      const down = (await (await fetch(`${proxy.origin}/ready`)).json()) as {
        status: string;
        checks: { auth: { ready: boolean; detail: string } };
      };
      expect(down.status).toBe('ready');
      expect(down.checks.auth.detail).toMatch(/^JWKS refresh failing since .+; serving 1 cached key\(s\)$/);
      const client = await connect(token);
      try {
        const result = await client.callTool({ name: 'echo', arguments: { text: 'during outage' } });
        expect(JSON.stringify(result.content)).toContain('during outage');
      } finally {
        await client.close();
      }
      expect(seen.at(-1)?.identity?.subject).toBe('bob');
    } finally {
      await idp.start();
    }
    await auth.authenticator?.jwks?.refresh();
    const back = await (await fetch(`${proxy.origin}/ready`)).json();
    expect(back).toEqual({ status: 'ready', checks: { auth: { ready: true, detail: 'JWKS: 1 key(s)' } } });
  });
});
