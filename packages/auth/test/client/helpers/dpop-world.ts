/**
 * A real testkit IdP (oidc-provider: DPoP on, optionally requiring nonces at the token endpoint) and
 * a real testkit MCP upstream that accepts only DPoP-bound JWTs of that IdP, checking every proof
 * with jose (`createDPoPResourceVerifier`): scheme, signature, htm, htu, iat, jti replay, ath,
 * cnf.jkt, and optionally its own nonce.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTokenStore, type TokenStore } from '@bastion-mcp/auth/client';
import {
  createDPoPResourceVerifier,
  type DPoPResourceVerifier,
  freePort,
  type McpUpstream,
  respondDPoPFailure,
  startMcpUpstream,
  startTestIdp,
  type TestIdp,
} from '@bastion-mcp/testkit';
import { createRemoteJWKSet, jwtVerify } from 'jose';

export interface DPoPWorld {
  idp: TestIdp;
  up: McpUpstream;
  verifier: DPoPResourceVerifier;
  resource: string;
  dir: string;
  store: TokenStore;
  close(): Promise<void>;
}

export async function startDPoPWorld(
  options: {
    /** The IdP requires a DPoP nonce at the token endpoint. */
    asNonce?: boolean;
    /** The MCP server requires this nonce in proofs. */
    rsNonce?: string;
    /** The 401 challenge names the DPoP scheme (the signal `--dpop auto` looks for). Default true. */
    dpopChallenge?: boolean;
  } = {},
): Promise<DPoPWorld> {
  const idp = await startTestIdp({ accessTokenTtlSeconds: 300, dpopRequireNonce: options.asNonce ?? false });
  const jwks = createRemoteJWKSet(new URL(idp.jwksUri));
  const port = await freePort();
  const resource = `http://127.0.0.1:${port}/mcp`;
  const prm = `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`;
  const verifier = createDPoPResourceVerifier({
    resourceUrl: resource,
    nonce: options.rsNonce,
    verifyAccessToken: async (token) =>
      (await jwtVerify(token, jwks, { issuer: idp.issuer, audience: resource })).payload,
  });
  const challenge = `${options.dpopChallenge === false ? '' : 'DPoP algs="ES256", '}Bearer resource_metadata="${prm}", scope="mcp:tools"`;
  const up = await startMcpUpstream({
    port,
    authorizationServers: [idp.issuer],
    onRequest: async (req, res) => {
      if (req.path.startsWith('/.well-known/')) return false;
      if (req.headers.authorization === undefined) {
        res.statusCode = 401;
        res.setHeader('www-authenticate', challenge);
        res.end();
        return true;
      }
      const result = await verifier.check(req);
      if (result.ok) return false;
      respondDPoPFailure(res, result, verifier, { resourceMetadata: prm });
      return true;
    },
  });
  idp.addResource(resource, { format: 'jwt', scopes: ['mcp:tools'], ttlSeconds: 300 });
  const dir = await mkdtemp(join(tmpdir(), 'bastion-dpop-'));
  const store = await createTokenStore({ dir, useKeyring: false });
  return {
    idp,
    up,
    verifier,
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
