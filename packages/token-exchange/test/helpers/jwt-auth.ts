/**
 * A minimal inbound-auth stand-in (JWT signature, issuer and expiry checked with jose against the
 * IdP's JWKS) used while packages/auth is not available to chain with. It sets exactly what the real
 * auth middleware sets for token exchange: `exchange.identity` and `exchange.inboundToken`.
 */
import { type Middleware, ProxyHttpError } from '@bastion-mcp/proxy-core';
import { createRemoteJWKSet, jwtVerify } from 'jose';

export function jwtAuth(options: { issuer: string; jwksUri: string }): Middleware {
  const jwks = createRemoteJWKSet(new URL(options.jwksUri));
  const reject = () =>
    new ProxyHttpError({
      status: 401,
      rpcCode: -32001,
      publicMessage: 'Unauthorized',
      code: 'ERR_TEST_AUTH',
      headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
      oauthError: { error: 'invalid_token' },
    });
  return {
    name: 'auth',
    async handle(exchange, next) {
      const header = exchange.request.headers.authorization ?? '';
      if (!header.startsWith('Bearer ')) throw reject();
      const token = header.slice('Bearer '.length);
      let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
      try {
        ({ payload } = await jwtVerify(token, jwks, {
          issuer: options.issuer,
          requiredClaims: ['exp', 'sub'],
        }));
      } catch {
        throw reject();
      }
      exchange.identity = {
        subject: String(payload.sub),
        groups: [],
        roles: [],
        scopes: typeof payload.scope === 'string' ? payload.scope.split(' ') : [],
        claims: payload,
        tokenKind: 'jwt',
        expiresAt: payload.exp,
      };
      exchange.inboundToken = token;
      return next();
    },
  };
}
