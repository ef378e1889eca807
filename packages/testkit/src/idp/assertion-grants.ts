/**
 * Assertion grants of the test IdP:
 *
 * - the RFC 7523 §2.1 JWT-bearer grant (`urn:ietf:params:oauth:grant-type:jwt-bearer`): a workload
 *   JWT from a trusted issuer (workload identity federation, SEP-1933), or an ID-JAG (SEP-990,
 *   header `typ: oauth-id-jag+jwt`) whose `client_id` must be the authenticated client;
 * - ID-JAG issuance through RFC 8693 token exchange (`requested_token_type
 *   urn:ietf:params:oauth:token-type:id-jag`, `subject_token_type …:id_token`), the enterprise IdP
 *   side of SEP-990. Other token exchanges go to the regular handler.
 *
 * Both issue JWT access tokens for a resource the IdP knows, like the token-exchange grant does.
 */
import { randomUUID } from 'node:crypto';
import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from 'jose';
import type { errors as OidcErrors, TokenEndpointGrantContext } from 'oidc-provider';
import { issueResourceToken } from './resource-token.js';
import type { IdpState, ResourceConfig } from './state.js';
import { ID_TOKEN_TYPE, validateIssuedToken } from './token-exchange.js';

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const ID_JAG_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id-jag';
/** Parameters of the JWT-bearer grant (besides `grant_type` and client authentication). */
export const JWT_BEARER_PARAMS = ['assertion', 'scope', 'resource'] as const;
/** Lifetime of issued ID-JAGs, in seconds. */
export const ID_JAG_TTL_SECONDS = 300;

type Handler = (ctx: TokenEndpointGrantContext) => Promise<void>;
type Params = Record<string, string | string[] | undefined>;

const single = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value[0] : value;

/**
 * Trust and mapping the assertion grants use, changed at runtime through `idp.assertionGrants`
 * (the issuers and client ids involved exist only once the other servers have started).
 */
export class AssertionGrants {
  readonly #trusted = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  readonly #idJagClients = new Map<string, string>();

  /** Accept JWT-bearer assertions (workload JWTs, ID-JAGs) signed by `issuer`'s keys at `jwksUri`. */
  trustIssuer(issuer: string, jwksUri: string): void {
    if (typeof issuer !== 'string' || issuer === '') throw new TypeError('issuer must be a non-empty string');
    this.#trusted.set(issuer, createRemoteJWKSet(new URL(jwksUri)));
  }

  /** Stops trusting `issuer`. */
  distrustIssuer(issuer: string): void {
    this.#trusted.delete(issuer);
  }

  /**
   * The `client_id` an ID-JAG for `audience` (an authorization server issuer) carries: the client
   * registered at that AS. Default: the client that asked for the ID-JAG.
   */
  setIdJagClient(audience: string, clientId: string): void {
    this.#idJagClients.set(audience, clientId);
  }

  /** The JWT-bearer grant handler. */
  jwtBearerHandler(state: IdpState, errors: typeof OidcErrors): Handler {
    return async (ctx) => {
      const { client } = ctx.oidc;
      const params = ctx.oidc.params as Params;
      const assertion = single(params['assertion']);
      if (!assertion) throw new errors.InvalidRequest('missing required parameter(s) (assertion)');
      let header: ReturnType<typeof decodeProtectedHeader>;
      let unverified: JWTPayload;
      try {
        header = decodeProtectedHeader(assertion);
        unverified = decodeJwt(assertion);
      } catch {
        throw new errors.InvalidGrant('assertion is not a JWT');
      }
      const keys = typeof unverified.iss === 'string' ? this.#trusted.get(unverified.iss) : undefined;
      if (!keys) throw new errors.InvalidGrant('assertion issuer is not trusted');
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(assertion, keys, {
          audience: [state.issuer, `${state.issuer}/`, `${state.issuer}/token`],
          requiredClaims: ['exp', 'sub'],
        }));
      } catch (err) {
        const code = (err as { code?: string }).code;
        throw new errors.InvalidGrant(
          code === 'ERR_JWT_EXPIRED'
            ? 'assertion is expired'
            : code === 'ERR_JWT_CLAIM_VALIDATION_FAILED'
              ? `assertion claim check failed (${(err as { claim?: string }).claim})`
              : 'assertion signature is invalid',
        );
      }
      const requestedResource = single(params['resource']);
      let resourceId: string | undefined = requestedResource;
      let ceiling: string[] | undefined;
      if (header.typ === 'oauth-id-jag+jwt') {
        if (payload['client_id'] !== client.clientId)
          throw new errors.InvalidGrant('ID-JAG client_id does not match the authenticated client');
        const jagResource = typeof payload['resource'] === 'string' ? payload['resource'] : undefined;
        if (requestedResource && jagResource && requestedResource !== jagResource)
          throw new errors.InvalidTarget('resource does not match the ID-JAG resource');
        resourceId = jagResource ?? requestedResource;
        if (typeof payload['scope'] === 'string') ceiling = payload['scope'].split(' ').filter(Boolean);
      }
      if (!resourceId) throw new errors.InvalidTarget('resource is required');
      const target = state.resources.get(resourceId);
      if (!target) throw new errors.InvalidTarget('unknown resource');
      const scopes = grantScopes(errors, target, single(params['scope']), ceiling);
      const issued = await issueResourceToken(state, ctx.oidc, {
        accountId: payload.sub as string,
        gty: JWT_BEARER_GRANT,
        target,
        scopes,
        claims: { assertion_iss: payload.iss },
      });
      ctx.body = {
        access_token: issued.value,
        token_type: 'Bearer',
        expires_in: issued.expiresIn,
        ...(issued.scope ? { scope: issued.scope } : {}),
      };
    };
  }

  /**
   * The token-exchange handler: `requested_token_type` ID-JAG is answered here (the subject must be
   * an ID token this IdP issued to the requesting client), anything else by `fallback`.
   */
  tokenExchangeHandler(state: IdpState, errors: typeof OidcErrors, fallback: Handler): Handler {
    return async (ctx) => {
      const params = ctx.oidc.params as Params;
      if (single(params['requested_token_type']) !== ID_JAG_TOKEN_TYPE) return fallback(ctx);
      const { provider, client } = ctx.oidc;
      const subjectToken = single(params['subject_token']);
      if (!subjectToken) throw new errors.InvalidRequest('missing required parameter(s) (subject_token)');
      if (single(params['subject_token_type']) !== ID_TOKEN_TYPE)
        throw new errors.InvalidRequest('an ID-JAG needs subject_token_type id_token');
      const audience = single(params['audience']);
      if (!audience) throw new errors.InvalidRequest('audience is required for an ID-JAG');
      const subject = await validateIssuedToken(state, provider, subjectToken);
      if (!subject) throw new errors.InvalidGrant('subject_token is invalid or expired');
      const aud = decodeJwt(subjectToken).aud;
      if (!(Array.isArray(aud) ? aud : [aud]).includes(client.clientId))
        throw new errors.InvalidGrant('subject_token was not issued to this client');
      const scope = single(params['scope']);
      const resource = single(params['resource']);
      const key = await importJWK(state.keys.current.privateJwk, 'RS256');
      const jag = await new SignJWT({
        client_id: this.#idJagClients.get(audience) ?? client.clientId,
        ...(resource ? { resource } : {}),
        ...(scope ? { scope } : {}),
        ...(typeof subject.claims['email'] === 'string' ? { email: subject.claims['email'] } : {}),
      })
        .setProtectedHeader({ alg: 'RS256', typ: 'oauth-id-jag+jwt', kid: state.keys.current.kid })
        .setIssuer(state.issuer)
        .setSubject(subject.sub)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime(`${ID_JAG_TTL_SECONDS}s`)
        .setJti(randomUUID())
        .sign(key);
      ctx.body = {
        access_token: jag,
        issued_token_type: ID_JAG_TOKEN_TYPE,
        token_type: 'N_A',
        expires_in: ID_JAG_TTL_SECONDS,
        ...(scope ? { scope } : {}),
      };
    };
  }
}

function grantScopes(
  errors: typeof OidcErrors,
  target: ResourceConfig,
  requested: string | undefined,
  ceiling: string[] | undefined,
): string[] {
  const allowed = new Set(target.scopes.filter((s) => !ceiling || ceiling.includes(s)));
  if (requested === undefined) return [...allowed].filter((s) => ceiling?.includes(s));
  const scopes = requested.split(' ').filter(Boolean);
  const refused = scopes.filter((s) => !allowed.has(s));
  if (refused.length > 0) throw new errors.InvalidScope('requested scope is not allowed', refused.join(' '));
  return scopes;
}
