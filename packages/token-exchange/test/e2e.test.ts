/**
 * End to end: a real MCP SDK client → proxy-core's server (packages/auth → token-exchange) → the testkit MCP
 * upstream, with the testkit IdP as both the inbound issuer and the STS.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createAuthMiddleware } from '@bastion-mcp/auth';
import { type ProxyServer, startProxyServer } from '@bastion-mcp/proxy-core';
import { type McpUpstream, startMcpUpstream, startTestIdp } from '@bastion-mcp/testkit';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { decodeJwt } from 'jose';
import { createTokenExchangeMiddleware, type TokenExchangeMiddleware } from '../src/index.js';

type Idp = Awaited<ReturnType<typeof startTestIdp>>;

let idp: Idp;
let up: McpUpstream;
let proxy: ProxyServer;
let tokenExchange: TokenExchangeMiddleware;
const AUDIENCE = 'https://crm.bastion.test/mcp';

beforeAll(async () => {
  idp = await startTestIdp();
  up = await startMcpUpstream();
  idp.addResource(AUDIENCE);
  tokenExchange = createTokenExchangeMiddleware({
    tokenUrl: idp.tokenEndpoint,
    clientId: idp.clients.exchanger.clientId,
    clientSecret: idp.clients.exchanger.clientSecret!,
    audience: AUDIENCE,
    allowInsecureRequests: true,
    challenge: { realm: idp.issuer },
  });
  proxy = await startProxyServer({
    upstreamUrl: up.url,
    middlewares: [
      createAuthMiddleware({
        issuer: idp.issuer,
        jwksUrl: idp.jwksUri,
        audience: idp.resource,
        resource: 'http://127.0.0.1/mcp',
      }),
      tokenExchange,
    ],
  });
});

afterAll(async () => {
  await proxy?.close();
  await up?.close();
  await idp?.close();
});

async function post(token: string, body: unknown = { jsonrpc: '2.0', id: 1, method: 'ping' }) {
  return fetch(proxy.url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify(body),
  });
}

describe('token exchange through the proxy server', () => {
  it('lets an MCP client call tools while the upstream only ever sees exchanged tokens', async () => {
    const token = await idp.issueAccessToken({ sub: 'alice', resource: idp.resource });
    up.clearRequests();
    const hitsBefore = idp.hits.tokenExchange;
    const client = new Client({ name: 'e2e', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(proxy.url), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    try {
      const result = await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
      expect(JSON.stringify(result.content)).toContain('hi');
      await client.listTools();
    } finally {
      await client.close();
    }
    expect(up.requests.length).toBeGreaterThanOrEqual(3);
    const auths = new Set(up.requests.map((r) => r.headers.authorization));
    expect(auths.size).toBe(1);
    const upstreamToken = String([...auths][0]).replace(/^Bearer /, '');
    expect(upstreamToken).not.toBe(token);
    const claims = decodeJwt(upstreamToken);
    expect([claims.aud].flat()).toContain(AUDIENCE);
    expect(claims.sub).toBe('alice');
    // every request of the session after the first is a cache hit
    expect(idp.hits.tokenExchange - hitsBefore).toBe(1);
  });

  it('never sends an invalid inbound token to the STS', async () => {
    const hitsBefore = idp.hits.tokenExchange;
    up.clearRequests();
    const res = await post('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJldmUifQ.c2lnbmF0dXJl');
    expect(res.status).toBe(401);
    await res.body?.cancel();
    expect(idp.hits.tokenExchange).toBe(hitsBefore);
    expect(up.requests).toHaveLength(0);
  });

  it('answers 503 with Retry-After on the wire while the STS is down, and recovers', async () => {
    const token = await idp.issueAccessToken({ sub: 'bob', resource: idp.resource });
    await idp.stop();
    let res: Response;
    try {
      // auth still works from its cached JWKS; the exchange cannot happen
      res = await post(token);
    } finally {
      await idp.start();
    }
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toBe('Upstream credential temporarily unavailable');
    expect(JSON.stringify(body)).not.toContain(token);
    // once the STS is back the request goes upstream with an exchanged token (the stateful upstream
    // answers a session-less ping with its own 400, which is irrelevant here)
    up.clearRequests();
    const again = await post(token);
    await again.body?.cancel();
    expect(again.status).not.toBe(503);
    expect(up.requests).toHaveLength(1);
    const sent = String(up.requests[0]?.headers.authorization).replace(/^Bearer /, '');
    expect(sent).not.toBe(token);
    expect(decodeJwt(sent).sub).toBe('bob');
  });
});
