import type { Configuration, errors as OidcErrors, KoaContextWithOIDC } from 'oidc-provider';
import type { IdpState } from './state.js';

/** OIDC scopes the IdP understands besides the resource scopes. */
export const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email', 'groups'] as const;

const OIDC_SCOPE_SET = new Set<string>(OIDC_SCOPES);

const htmlEscape = (value: string): string => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A minimal HTML page; the test IdP's pages are meant to be driven by tests and Chromium. */
export function page(title: string, body: string): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${htmlEscape(title)}</title></head><body><h1>${htmlEscape(title)}</h1>${body}</body></html>`;
}

export { htmlEscape };

/** Claims of `sub` from the accounts table (unknown subjects have only `sub`). */
export function accountClaims(state: IdpState, sub: string): Record<string, unknown> {
  return { ...state.accounts.get(sub), sub };
}

/** Claims an access token of `accountId` carries besides the registered ones. */
function accessTokenClaimsFor(state: IdpState, accountId: string): Record<string, unknown> | undefined {
  if (!state.includeAccountClaimsInAccessTokens) return undefined;
  const { sub: _sub, ...claims } = accountClaims(state, accountId);
  return Object.keys(claims).length > 0 ? claims : undefined;
}

/**
 * The oidc-provider configuration of the test IdP. Everything a default would print a notice about
 * is set explicitly; state is read on every call, so accounts, resources and TTLs may change while
 * the provider runs.
 */
export function buildConfiguration(state: IdpState, errors: typeof OidcErrors): Configuration {
  const allScopes = [...new Set([...OIDC_SCOPES, ...state.scopes])];
  return {
    adapter: (name: string) => state.store.adapterFor(name),
    clients: state.clientMetadata,
    jwks: { keys: [state.keys.current.privateJwk, ...state.keys.retained.map((k) => k.privateJwk)] },
    cookies: { keys: state.cookieKeys },
    scopes: allScopes,
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username', 'picture'],
      groups: ['groups'],
    },
    conformIdTokenClaims: false,
    findAccount: (_ctx, sub) => ({
      accountId: sub,
      claims: () => accountClaims(state, sub) as { sub: string },
    }),
    pkce: { required: () => true },
    clientBasedCORS: () => true,
    features: {
      devInteractions: { enabled: false },
      dPoP: state.dpopNonceSecret
        ? { enabled: true, nonceSecret: state.dpopNonceSecret, requireNonce: () => true }
        : { enabled: true },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: async () => true },
      revocation: { enabled: true, allowedPolicy: async () => true },
      userinfo: { enabled: true },
      registration: { enabled: true, initialAccessToken: false },
      // RFC 7592: clients may read, update and DELETE their own registration with the
      // registration_access_token returned by RFC 7591 registration.
      registrationManagement: { enabled: true, rotateRegistrationAccessToken: true },
      deviceFlow: {
        enabled: true,
        charset: 'base-20',
        userCodeInputSource: async (ctx, form, _out, err) => {
          ctx.type = 'html';
          ctx.body = page(
            'Device login',
            `${err ? '<p id="error">Invalid or expired code</p>' : ''}${form}<button id="continue" type="submit" form="op.deviceInputForm">Continue</button>`,
          );
        },
        userCodeConfirmSource: async (ctx, form, client, _deviceInfo, userCode) => {
          ctx.type = 'html';
          ctx.body = page(
            'Confirm device',
            `<p>Client <code>${htmlEscape(client.clientId)}</code> asks for access. Code <code id="user-code">${htmlEscape(userCode)}</code></p>${form}<button id="confirm" type="submit" form="op.deviceConfirmForm">Continue</button><button id="abort" type="submit" form="op.deviceConfirmForm" value="yes" name="abort">Abort</button>`,
          );
        },
        successSource: async (ctx) => {
          ctx.type = 'html';
          ctx.body = page('Device login complete', '<p id="done">You can close this page.</p>');
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => oneOf,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resourceIndicator) => {
          const resource = state.resources.get(resourceIndicator);
          if (!resource) {
            // The provider answers `invalid_target` to the caller.
            throw new errors.InvalidTarget();
          }
          return {
            audience: resource.identifier,
            scope: resource.scopes.join(' '),
            accessTokenTTL: resource.ttlSeconds ?? state.accessTokenTtlSeconds,
            accessTokenFormat: resource.format,
            ...(resource.format === 'jwt'
              ? { jwt: { sign: { alg: 'RS256', kid: state.keys.current.kid } } }
              : {}),
          };
        },
      },
    },
    extraTokenClaims: async (_ctx, token) => {
      const extras = state.tokenExtras.get(token);
      if (extras?.claims) return extras.claims;
      const accountId = (token as { accountId?: string }).accountId;
      return accountId ? accessTokenClaimsFor(state, accountId) : undefined;
    },
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      // Auto-consent: whatever a signed-in user's client asks for is granted, so interactive flows
      // need only the login step.
      const { oidc } = ctx;
      const client = oidc.client;
      const session = oidc.session;
      if (!client || !session?.accountId) return undefined;
      const grantId = oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      const grant =
        (grantId ? await oidc.provider.Grant.find(grantId) : undefined) ??
        new oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      const requested = String(oidc.params?.scope ?? '')
        .split(' ')
        .filter(Boolean);
      const oidcScopes = requested.filter((s) => OIDC_SCOPE_SET.has(s));
      if (oidcScopes.length > 0) grant.addOIDCScope(oidcScopes.join(' '));
      const claims = (oidc as { claims?: { id_token?: object; userinfo?: object } }).claims;
      if (claims?.id_token) grant.addOIDCClaims(Object.keys(claims.id_token));
      if (claims?.userinfo) grant.addOIDCClaims(Object.keys(claims.userinfo));
      for (const [identifier, server] of Object.entries(oidc.resourceServers ?? {})) {
        const allowed = new Set(server.scope?.split(' ') ?? []);
        const scopes = requested.filter((s) => allowed.has(s));
        grant.addResourceScope(identifier, scopes.join(' '));
      }
      await grant.save();
      return grant;
    },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: () => state.rotateRefreshTokens,
    interactions: {
      url: async (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Error', `<pre id="error">${htmlEscape(JSON.stringify(out, null, 2))}</pre>`);
    },
    ttl: {
      AccessToken: (_ctx, token) =>
        state.tokenExtras.get(token)?.ttlSeconds ??
        token.resourceServer?.accessTokenTTL ??
        state.accessTokenTtlSeconds,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? state.accessTokenTtlSeconds,
      AuthorizationCode: 60,
      DeviceCode: 600,
      IdToken: 3600,
      RefreshToken: () => state.refreshTokenTtlSeconds,
      Interaction: 3600,
      Session: 86400,
      Grant: 86400,
      BackchannelAuthenticationRequest: 600,
    },
    responseTypes: ['code', 'none'],
  } as Configuration;
}
