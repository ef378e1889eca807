/**
 * A real testkit IdP (oidc-provider) and a real testkit MCP upstream that only accepts JWTs of that
 * IdP issued for its own resource (`<origin>/mcp`): a 401 challenge with `resource_metadata`
 * otherwise, and PRM listing the IdP.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import {
  freePort,
  type McpUpstream,
  startMcpUpstream,
  startTestIdp,
  type TestIdp,
} from '@bastion-mcp/testkit';
import { createTokenStore, type TokenStore } from '@bastion-mcp/auth/client';

export interface World {
  idp: TestIdp;
  up: McpUpstream;
  resource: string;
  dir: string;
  store: TokenStore;
  close(): Promise<void>;
}

export async function startWorld(
  options: { ttlSeconds?: number; resourceRegistered?: boolean } = {},
): Promise<World> {
  const idp = await startTestIdp({ accessTokenTtlSeconds: options.ttlSeconds ?? 300 });
  const jwks = createRemoteJWKSet(new URL(idp.jwksUri));
  let resource = '';
  // A fixed port so the challenge can carry `scope` (the IdP grants nothing to a scope-less request).
  const port = await freePort();
  const up = await startMcpUpstream({
    port,
    authorizationServers: [idp.issuer],
    wwwAuthenticate: `Bearer resource_metadata="http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp", scope="mcp:tools"`,
    requireAuth: async (req) => {
      const header = req.headers.authorization;
      if (typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
      try {
        await jwtVerify(header.slice(7), jwks, { issuer: idp.issuer, audience: resource });
        return true;
      } catch {
        return false;
      }
    },
  });
  resource = `${up.origin}/mcp`;
  if (options.resourceRegistered ?? true) {
    idp.addResource(resource, {
      format: 'jwt',
      scopes: ['mcp:tools'],
      ttlSeconds: options.ttlSeconds ?? 300,
    });
  }
  const dir = await mkdtemp(join(tmpdir(), 'bastion-oauth-'));
  const store = await createTokenStore({ dir, useKeyring: false });
  return {
    idp,
    up,
    resource,
    dir,
    store,
    async close() {
      await up.close();
      await idp.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Lists the upstream's tools with a real MCP SDK client sending `token`. */
export async function listToolsWith(url: string, token: string): Promise<string[]> {
  const client = new Client({ name: 'oauth-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  try {
    return (await client.listTools()).tools.map((t) => t.name);
  } finally {
    await client.close();
  }
}

/** Reads the stored grant (test-only peek at the decrypted entry). */
export async function storedTokens(
  store: TokenStore,
  name: string,
): Promise<{ accessToken: string; refreshToken?: string; expiresAt?: number } | undefined> {
  const grant = (await store.get(`tokens:${name}`)) as
    | { tokens?: { accessToken: string; refreshToken?: string; expiresAt?: number } }
    | undefined;
  return grant?.tokens;
}

/** Marks the stored access token of `name` as expired (deterministic instead of sleeping). */
export async function expireStoredToken(store: TokenStore, name: string): Promise<void> {
  const grant = (await store.get(`tokens:${name}`)) as { tokens: { expiresAt?: number } };
  grant.tokens.expiresAt = Date.now() - 1_000;
  await store.set(`tokens:${name}`, grant);
}
