/**
 * An OAuth-protected MCP upstream: the testkit upstream whose `requireAuth` verifies the bearer
 * token for real (signature against the test IdP's JWKS, issuer, audience = the upstream URL).
 */
import {
  type McpUpstream,
  type RecordedRequest,
  startMcpUpstream,
  startTestIdp,
  type TestIdp,
} from '@bastion-mcp/testkit';
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';

export interface ProtectedRemote {
  idp: TestIdp;
  up: McpUpstream;
  /** Verified claims of every accepted upstream request. */
  accepted: JWTPayload[];
  close(): Promise<void>;
}

export async function startProtectedRemote(
  options: { accessTokenTtlSeconds?: number } = {},
): Promise<ProtectedRemote> {
  const idp = await startTestIdp({ accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 3600 });
  const jwks = createRemoteJWKSet(new URL(idp.jwksUri));
  const accepted: JWTPayload[] = [];
  let audience = '';
  const up = await startMcpUpstream({
    authorizationServers: [idp.issuer],
    // PRM `scopes_supported`: clients pick their scopes from it when the challenge names none.
    scopesSupported: ['mcp:tools'],
    requireAuth: async (req: RecordedRequest) => {
      const h = req.headers.authorization;
      const m = typeof h === 'string' ? /^Bearer (.+)$/.exec(h) : null;
      if (!m?.[1]) return false;
      try {
        const { payload } = await jwtVerify(m[1], jwks, { issuer: idp.issuer, audience });
        accepted.push(payload);
        return true;
      } catch {
        return false;
      }
    },
  });
  audience = up.url;
  idp.addResource(up.url, { format: 'jwt', scopes: ['mcp:tools'] });
  return {
    idp,
    up,
    accepted,
    async close() {
      await up.close();
      await idp.close();
    },
  };
}

/** Wait until `predicate(text)` holds for the accumulated stderr, returning the match. */
export function waitForOutput(
  get: () => string,
  pattern: RegExp,
  timeoutMs = 20_000,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      const m = pattern.exec(get());
      if (m) return resolve(m);
      if (Date.now() - started > timeoutMs) return reject(new Error(`no ${pattern} in output:\n${get()}`));
      setTimeout(tick, 25);
    };
    tick();
  });
}
