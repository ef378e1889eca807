/**
 * Identity-provider faults behind real auth / token-exchange middlewares: JWKS down, introspection slow,
 * STS answering 500. Each fails closed with 503 + Retry-After (PRODUCT.md §2.2, auth and token-exchange
 * READMEs), keeps serving what it can, recovers when the IdP does, and leaks nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createAuthMiddleware } from '@bastion-mcp/auth';
import { createTokenExchangeMiddleware } from '@bastion-mcp/token-exchange';
import { type McpUpstream, startMcpUpstream, startTokenMinter, type TokenMinter } from '@bastion-mcp/testkit';
import { Agent } from 'undici';
import { post, type RawServer, readText, rpc, startRawServer } from '../helpers/http.js';
import { leakedSince, resources } from '../helpers/leaks.js';
import { startTestProxy } from '../helpers/proxy.js';

const RESOURCE = 'http://127.0.0.1/mcp';
const CALL = rpc('tools/call', { name: 'echo', arguments: { text: 'authorised' } }, 5);

const until = async (pred: () => Promise<boolean>, withinMs = 5_000) => {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await pred()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
};

function expectUnavailable(a: { status: number; headers: Record<string, unknown>; json: unknown }): void {
  expect(a.status).toBe(503);
  expect(Number(a.headers['retry-after'])).toBeGreaterThan(0);
  expect(a.headers['content-type']).toMatch(/^application\/json/);
}

describe('IdP faults', () => {
  let upstream: McpUpstream;
  let minter: TokenMinter;

  beforeAll(async () => {
    upstream = await startMcpUpstream({ stateless: true });
    minter = await startTokenMinter();
  });
  afterAll(async () => {
    await minter.close();
    await upstream.close();
  });

  it('JWKS down: 503 + Retry-After (fail closed) until it is back, then 200', async () => {
    const baseline = resources();
    await minter.stopJwks();
    const proxy = await startTestProxy(upstream.url, {
      middlewares: [
        createAuthMiddleware({
          issuer: minter.issuer,
          jwksUrl: minter.jwksUri,
          resource: RESOURCE,
          jwks: { errorRetryMs: 100, timeoutMs: 500 },
        }),
      ],
    });
    const agent = new Agent();
    const token = await minter.mint({ claims: { sub: 'alice', aud: RESOURCE } });
    const auth = { authorization: `Bearer ${token}` };
    const down = await post(proxy.url, CALL, { headers: auth, dispatcher: agent });
    expectUnavailable(down);
    expect(down.text).not.toContain(token);
    // A request without a token is still answered (401 challenge): the proxy keeps serving.
    const anon = await post(proxy.url, CALL, { dispatcher: agent });
    expect(anon.status).toBe(401);
    await minter.startJwks();
    expect(
      await until(
        async () => (await post(proxy.url, CALL, { headers: auth, dispatcher: agent })).status === 200,
      ),
    ).toBe(true);
    await agent.close();
    await proxy.close();
    expect(await leakedSince(baseline)).toEqual({});
  });

  describe('slow introspection', () => {
    let idp: RawServer;
    let delayMs = 2_000;
    const pending = new Set<NodeJS.Timeout>();

    beforeAll(async () => {
      idp = await startRawServer((req, res) => {
        void readText(req).then((form) => {
          const active = new URLSearchParams(form).get('token') === 'opaque-good';
          const send = () => {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(
              JSON.stringify(
                active
                  ? { active: true, sub: 'bob', aud: RESOURCE, exp: Math.floor(Date.now() / 1000) + 300 }
                  : { active: false },
              ),
            );
          };
          if (delayMs === 0) return send();
          const t = setTimeout(() => {
            pending.delete(t);
            if (!res.destroyed) send();
          }, delayMs);
          pending.add(t);
        });
      }, '/introspect');
    });
    afterAll(async () => {
      for (const t of pending) clearTimeout(t);
      await idp.close();
    });

    it('times out into 503 + Retry-After, serves again when the IdP is fast, leaks nothing', async () => {
      const baseline = resources();
      const proxy = await startTestProxy(upstream.url, {
        middlewares: [
          createAuthMiddleware({
            resource: RESOURCE,
            jwt: false,
            introspection: { url: idp.url, clientId: 'proxy', clientSecret: 's3cret', timeoutMs: 200 },
          }),
        ],
      });
      const agent = new Agent();
      const auth = { authorization: 'Bearer opaque-good' };
      expectUnavailable(await post(proxy.url, CALL, { headers: auth, dispatcher: agent }));
      delayMs = 0;
      const ok = await post(proxy.url, CALL, { headers: auth, dispatcher: agent });
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('authorised');
      await agent.close();
      await proxy.close();
      for (const t of pending) clearTimeout(t);
      pending.clear();
      expect(await leakedSince(baseline)).toEqual({});
    });
  });

  describe('STS answering 500', () => {
    let sts: RawServer;
    let stsStatus = 500;

    beforeAll(async () => {
      sts = await startRawServer((req, res) => {
        void readText(req).then(() => {
          if (stsStatus === 500) {
            res.writeHead(500, { 'content-type': 'text/plain' });
            res.end('sts exploded');
            return;
          }
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              access_token: 'exchanged-token',
              issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
              token_type: 'Bearer',
              expires_in: 300,
            }),
          );
        });
      }, '/token');
    });
    afterAll(async () => {
      await sts.close();
    });

    it('fails closed with 503 + Retry-After, then exchanges once the STS recovers', async () => {
      const baseline = resources();
      const proxy = await startTestProxy(upstream.url, {
        middlewares: [
          createAuthMiddleware({ issuer: minter.issuer, jwksUrl: minter.jwksUri, resource: RESOURCE }),
          createTokenExchangeMiddleware({
            tokenUrl: sts.url,
            clientId: 'proxy',
            clientSecret: 's3cret',
            audience: 'upstream',
            allowInsecureRequests: true,
          }),
        ],
      });
      const agent = new Agent();
      const token = await minter.mint({ claims: { sub: 'carol', aud: RESOURCE } });
      const auth = { authorization: `Bearer ${token}` };
      const failed = await post(proxy.url, CALL, { headers: auth, dispatcher: agent });
      expectUnavailable(failed);
      expect(failed.text).not.toContain('sts exploded');
      expect(upstream.rpcRequests('tools/call').some((r) => r.headers.authorization !== undefined)).toBe(
        false,
      );
      stsStatus = 200;
      upstream.clearRequests();
      const ok = await post(proxy.url, CALL, { headers: auth, dispatcher: agent });
      expect(ok.status).toBe(200);
      expect(upstream.rpcRequests('tools/call')[0]?.headers.authorization).toBe('Bearer exchanged-token');
      await agent.close();
      await proxy.close();
      expect(await leakedSince(baseline)).toEqual({});
    });
  });
});
