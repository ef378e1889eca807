/**
 * Stand-ins for the auth and authz middlewares in telemetry's end-to-end tests (the real packages sit
 * above telemetry in the dependency order): they publish what the real ones publish and reject the way
 * the real ones do, so telemetry sees the same chain behaviour.
 */
import { type Middleware, ProxyHttpError, publishCacheLookup, traceIdpCall } from '@bastion-mcp/proxy-core';

/**
 * Auth stand-in (outside `telemetry.middleware`): a JWKS cache hit per request, a real HTTP call to
 * `idpUrl` traced as an IdP call — on every request, or with `idpCall: 'on-header'` only when the
 * request carries `x-test-idp: 1` — and a 401 with `WWW-Authenticate` when it carries `x-test-deny: 401`.
 */
export function authStandIn(idpUrl: string, idpCall: 'every-request' | 'on-header'): Middleware {
  return {
    name: 'auth',
    async handle(exchange, next) {
      publishCacheLookup('jwks', 'hit');
      if (idpCall === 'every-request' || exchange.request.headers['x-test-idp'] === '1') {
        await traceIdpCall(
          'jwks',
          idpUrl,
          exchange,
          async () => {
            const res = await fetch(idpUrl);
            await res.arrayBuffer();
            return res.status;
          },
          (s) => s,
        );
      }
      if (exchange.request.headers['x-test-deny'] === '401') {
        exchange.notes.rejectedBy = 'auth';
        throw new ProxyHttpError({
          status: 401,
          rpcCode: -32001,
          publicMessage: 'Unauthorized',
          code: 'ERR_BASTION_TEST_UNAUTHORIZED',
          oauthError: { error: 'invalid_token' },
          headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
        });
      }
      return next();
    },
  };
}

/** Authz stand-in (inside `telemetry.middleware`): denies `tools/call delete_repo` with a 403 (policy `p1`). */
export const authzStandIn: Middleware = {
  name: 'authz',
  async handle(exchange, next) {
    const rpc = exchange.rpc;
    if (rpc && 'method' in rpc && rpc.method === 'tools/call' && rpc.params?.name === 'delete_repo') {
      exchange.notes.rejectedBy = 'authz';
      exchange.notes.authz = { decision: 'deny', policyIds: ['p1'] };
      throw new ProxyHttpError({
        status: 403,
        rpcCode: -32003,
        publicMessage: 'Forbidden',
        code: 'ERR_BASTION_TEST_DENIED',
      });
    }
    return next();
  },
};
