import { createLocalJWKSet, jwtVerify } from 'jose';
import type { errors as OidcErrors, Provider, TokenEndpointGrantContext } from 'oidc-provider';
import { TOKEN_EXCHANGE_GRANT } from './clients.js';
import { issueResourceToken } from './resource-token.js';
import type { ResourceConfig, IdpState } from './state.js';

export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
export const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';

/** Parameters of the RFC 8693 grant (besides `grant_type` and client authentication). */
export const TOKEN_EXCHANGE_PARAMS = [
  'audience',
  'resource',
  'scope',
  'requested_token_type',
  'subject_token',
  'subject_token_type',
  'actor_token',
  'actor_token_type',
] as const;

/** RFC 8693 §2.1: `audience` and `resource` may repeat. */
export const TOKEN_EXCHANGE_DUPLICATES = ['audience', 'resource'] as const;

type ExchangeParams = Partial<Record<(typeof TOKEN_EXCHANGE_PARAMS)[number], string | string[]>>;

/** Registered JWT claims that describe the token itself rather than the subject. */
const TOKEN_CLAIMS = new Set([
  'iss',
  'sub',
  'aud',
  'exp',
  'nbf',
  'iat',
  'jti',
  'client_id',
  'scope',
  'cnf',
  'azp',
  'auth_time',
  'acr',
  'amr',
  'sid',
  'nonce',
  'at_hash',
  'c_hash',
  's_hash',
  'act',
]);

export interface ValidatedToken {
  sub: string;
  /** Subject claims to carry over (registered token claims removed). */
  claims: Record<string, unknown>;
  scope: string | undefined;
  act: Record<string, unknown> | undefined;
}

/**
 * Validates a token this IdP issued: a JWT (access or ID token) against the IdP's own keys, or an
 * opaque access token through the provider's store. Returns undefined when it is not valid.
 */
export async function validateIssuedToken(
  state: IdpState,
  provider: Provider,
  value: string,
): Promise<ValidatedToken | undefined> {
  if (value.split('.').length === 3) {
    try {
      const keys = [state.keys.current, ...state.keys.retained].map((k) => k.publicJwk);
      const { payload } = await jwtVerify(value, createLocalJWKSet({ keys }), {
        issuer: state.issuer,
        algorithms: ['RS256'],
        requiredClaims: ['exp', 'sub'],
      });
      const claims = Object.fromEntries(Object.entries(payload).filter(([k]) => !TOKEN_CLAIMS.has(k)));
      return {
        sub: payload.sub as string,
        claims,
        scope: typeof payload.scope === 'string' ? payload.scope : undefined,
        act: isRecord(payload.act) ? payload.act : undefined,
      };
    } catch {
      return undefined;
    }
  }
  const token =
    (await provider.AccessToken.find(value).catch(() => undefined)) ??
    (await provider.ClientCredentials.find(value).catch(() => undefined));
  if (!token?.isValid) return undefined;
  const grantId = (token as { grantId?: string }).grantId;
  if (grantId && !(await provider.Grant.find(grantId).catch(() => undefined))) return undefined;
  const extra = (token as { extra?: Record<string, unknown> }).extra ?? {};
  const { act, ...claims } = extra;
  const accountId = (token as { accountId?: string }).accountId;
  return {
    sub: accountId ?? (token.clientId as string),
    claims,
    scope: token.scope,
    act: isRecord(act) ? act : undefined,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const list = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

const single = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value[0] : value;

/**
 * The RFC 8693 grant handler: validates the subject token, resolves the single target (`audience`
 * or `resource`, which must name a resource known to the IdP) and issues a JWT access token for it
 * with the subject's `sub` and claims, `act: { sub: <client_id> }` (nesting any previous `act`) and
 * the requested scope (default: the subject token's scopes the target accepts).
 */
export function tokenExchangeHandler(state: IdpState, errors: typeof OidcErrors) {
  return async (ctx: TokenEndpointGrantContext): Promise<void> => {
    const { provider, client } = ctx.oidc;
    const params = ctx.oidc.params as ExchangeParams;
    const subjectToken = single(params.subject_token);
    const subjectTokenType = single(params.subject_token_type);
    if (!subjectToken) throw new errors.InvalidRequest('missing required parameter(s) (subject_token)');
    if (!subjectTokenType)
      throw new errors.InvalidRequest('missing required parameter(s) (subject_token_type)');
    if (![ACCESS_TOKEN_TYPE, JWT_TOKEN_TYPE, ID_TOKEN_TYPE].includes(subjectTokenType)) {
      throw new errors.InvalidRequest('unsupported subject_token_type');
    }
    const requestedType = single(params.requested_token_type) ?? ACCESS_TOKEN_TYPE;
    if (requestedType !== ACCESS_TOKEN_TYPE && requestedType !== JWT_TOKEN_TYPE) {
      throw new errors.InvalidRequest('unsupported requested_token_type');
    }
    const actorToken = single(params.actor_token);
    if (actorToken && !single(params.actor_token_type)) {
      throw new errors.InvalidRequest('actor_token_type is required with actor_token');
    }
    const targets = [...new Set([...list(params.audience), ...list(params.resource)])];
    if (targets.length === 0) throw new errors.InvalidRequest('audience or resource is required');
    if (targets.length > 1) throw new errors.InvalidTarget('only one audience or resource is supported');
    const target: ResourceConfig | undefined = state.resources.get(targets[0] as string);
    if (!target) throw new errors.InvalidTarget('unknown audience or resource');

    const subject = await validateIssuedToken(state, provider, subjectToken);
    if (!subject) throw new errors.InvalidGrant('subject_token is invalid, expired or revoked');
    let actorSub = client.clientId;
    if (actorToken) {
      const actor = await validateIssuedToken(state, provider, actorToken);
      if (!actor) throw new errors.InvalidGrant('actor_token is invalid, expired or revoked');
      actorSub = actor.sub;
    }

    const allowed = new Set(target.scopes);
    const requestedScope = single(params.scope);
    let scopes: string[];
    if (requestedScope !== undefined) {
      scopes = requestedScope.split(' ').filter(Boolean);
      const refused = scopes.filter((s) => !allowed.has(s));
      if (refused.length > 0)
        throw new errors.InvalidScope('requested scope is not allowed', refused.join(' '));
    } else {
      scopes = (subject.scope ?? '').split(' ').filter((s) => allowed.has(s));
    }

    const issued = await issueResourceToken(state, ctx.oidc, {
      accountId: subject.sub,
      gty: TOKEN_EXCHANGE_GRANT,
      target,
      scopes,
      claims: {
        ...subject.claims,
        act: subject.act ? { sub: actorSub, act: subject.act } : { sub: actorSub },
      },
    });
    ctx.body = {
      access_token: issued.value,
      issued_token_type: requestedType,
      token_type: 'Bearer',
      expires_in: issued.expiresIn,
      ...(issued.scope ? { scope: issued.scope } : {}),
    };
  };
}
