/**
 * Enterprise-managed authorization (SEP-990, the Identity Assertion JWT Authorization Grant):
 *
 * 1. RFC 8693 token exchange at the enterprise IdP: the user's ID token (`subject_token_type
 *    …:id_token`) for an ID-JAG (`requested_token_type …:id-jag`) whose `audience` is the MCP
 *    server's authorization server and `resource` the MCP server;
 * 2. RFC 7523 jwt-bearer grant at that authorization server with the ID-JAG as `assertion`,
 *    authenticated as the AS's (pre-registered) client.
 *
 * Both steps run again at every expiry: the ID token file is re-read, so a refreshed enterprise
 * sign-in is picked up without a new `bastion login`.
 */
import {
  type Configuration,
  type DPoPOptions,
  genericGrantRequest,
  type TokenEndpointResponse,
} from 'openid-client';
import { discoverAuthorizationServer } from './authorization-server.js';
import {
  configurationFor,
  type StaticClientOptions,
  staticClientIdentity,
  validateStaticClient,
} from './client-auth.js';
import { type ClientIdentity, grantKey, type StoredIdJag } from './credentials.js';
import { prepareLoginDPoP } from './dpop.js';
import { OAuthClientError, OAuthClientErrorCode } from './errors.js';
import type { FetchLike } from './internal/http.js';
import { assertSecureUrl } from './internal/url.js';
import { readAssertionFile, requestJwtBearer } from './jwt-bearer.js';
import { type LoginOptions, type LoginResult, persistLogin, planLogin } from './login-common.js';
import { classifyGrantError, toStoredTokens } from './openid.js';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
export const ID_JAG_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id-jag';

export interface IdJagIdpOptions {
  /** The enterprise IdP's issuer: its token endpoint is discovered (RFC 8414 / OIDC) unless `tokenEndpoint` is given. */
  issuer?: string | undefined;
  /** The IdP's token endpoint (skips discovery; the issuer defaults to its origin). */
  tokenEndpoint?: string | undefined;
  /** Bastion's client at the IdP: an id, with a secret or a `private_key_jwt` key, or public. */
  client: StaticClientOptions;
  /** File holding the user's ID token from the IdP sign-in; re-read at every exchange. */
  idTokenFile: string;
}

export interface IdJagLoginOptions extends Omit<LoginOptions, 'client'> {
  /** The client at the MCP server's authorization server (its id must be the one the IdP puts in the ID-JAG). */
  client: StaticClientOptions;
  idp: IdJagIdpOptions;
}

interface Transport {
  fetch: FetchLike;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

function idpLabel(idJag: StoredIdJag): string {
  return `enterprise IdP ${idJag.idp.issuer}`;
}

/** Step 1: the ID token for an ID-JAG at the IdP. */
export async function requestIdJag(
  idJag: StoredIdJag,
  scopes: string[] | undefined,
  transport: Transport,
): Promise<string> {
  const idToken = await readAssertionFile(idJag.idTokenFile, 'ID token');
  const metadata = { issuer: idJag.idp.issuer, token_endpoint: idJag.idp.tokenEndpoint };
  const config = await configurationFor(metadata, idJag.idpClient, transport);
  const what = `token exchange at the ${idpLabel(idJag)}`;
  let response: TokenEndpointResponse;
  try {
    response = await genericGrantRequest(config, TOKEN_EXCHANGE_GRANT, {
      subject_token: idToken,
      subject_token_type: ID_TOKEN_TYPE,
      requested_token_type: ID_JAG_TOKEN_TYPE,
      audience: idJag.audience,
      resource: idJag.resource,
      ...(scopes && scopes.length > 0 ? { scope: scopes.join(' ') } : {}),
    });
  } catch (err) {
    throw classifyGrantError(err, what, transport.signal);
  }
  const issued = response['issued_token_type'];
  if (issued !== ID_JAG_TOKEN_TYPE) {
    throw new OAuthClientError(
      OAuthClientErrorCode.TokenRequest,
      `The ${idpLabel(idJag)} answered the token exchange with ${typeof issued === 'string' ? issued : 'no issued_token_type'} instead of an ID-JAG (${ID_JAG_TOKEN_TYPE})`,
    );
  }
  return response.access_token;
}

/**
 * Both steps: ID token → ID-JAG at the IdP → access token at the AS. `dpop` binds the AS token
 * (the ID-JAG itself is not a DPoP-bound token).
 */
export async function requestIdJagAccessToken(
  asConfig: Configuration,
  idJag: StoredIdJag,
  scopes: string[] | undefined,
  resource: string | undefined,
  transport: Transport,
  dpop?: DPoPOptions,
): Promise<{ response: TokenEndpointResponse; resource: string | undefined }> {
  const assertion = await requestIdJag(idJag, scopes, transport);
  return requestJwtBearer(
    asConfig,
    assertion,
    scopes,
    resource,
    'JWT-bearer token request with the ID-JAG',
    transport.signal,
    dpop,
  );
}

async function resolveIdp(
  idp: IdJagIdpOptions,
  ctx: Transport & { allowInsecureHttp: boolean },
): Promise<StoredIdJag['idp']> {
  if (idp.tokenEndpoint !== undefined) {
    const url = assertSecureUrl(idp.tokenEndpoint, 'enterprise IdP token endpoint', ctx.allowInsecureHttp);
    return { issuer: idp.issuer ?? url.origin, tokenEndpoint: url.href };
  }
  const issuer = idp.issuer as string;
  try {
    const metadata = await discoverAuthorizationServer(issuer, ctx);
    return { issuer: metadata.issuer, tokenEndpoint: metadata.token_endpoint };
  } catch (err) {
    if (!(err instanceof OAuthClientError)) throw err;
    throw new OAuthClientError(
      err.code as OAuthClientErrorCode,
      `Discovering the enterprise IdP ${issuer} failed: ${err.message}`,
      { cause: err, status: err.status, oauthError: err.oauthError, retryable: err.retryable },
    );
  }
}

function validateIdp(idp: IdJagIdpOptions | undefined): asserts idp is IdJagIdpOptions {
  if (!idp || typeof idp !== 'object') throw new TypeError('"idp" must be an object');
  if (idp.issuer === undefined && idp.tokenEndpoint === undefined)
    throw new TypeError('"idp.issuer" or "idp.tokenEndpoint" is required');
  for (const key of ['issuer', 'tokenEndpoint'] as const) {
    const v = idp[key];
    if (v !== undefined && (typeof v !== 'string' || !URL.canParse(v)))
      throw new TypeError(`"idp.${key}" must be an absolute URL`);
  }
  if (typeof idp.idTokenFile !== 'string' || idp.idTokenFile === '')
    throw new TypeError('"idp.idTokenFile" must be the path of the ID token file');
  validateStaticClient(idp.client, 'idp.client');
  if (!idp.client?.clientId) throw new TypeError('"idp.client.clientId" is required');
}

/**
 * Logs in with enterprise-managed authorization and stores the grant (IdP client secret included,
 * in the token store like the AS client's; the ID token only as its file path).
 *
 * @throws OAuthClientError `ERR_BASTION_OAUTH_ASSERTION` (ID token file), `_INVALID_GRANT` (the IdP
 *   rejected the ID token, or the AS the ID-JAG), `_TOKEN_REQUEST`, `_AS_UNAVAILABLE` (the IdP or
 *   the AS is unreachable; the message names which), `_DISCOVERY`, `_CLIENT_ASSERTION_KEY`.
 */
export async function loginWithIdJag(options: IdJagLoginOptions): Promise<LoginResult> {
  const plan = planLogin({ ...options, client: undefined });
  validateIdp(options.idp);
  validateStaticClient(options.client, 'client');
  if (!options.client?.clientId)
    throw new TypeError('"client.clientId" (the client at the authorization server) is required');
  const client: ClientIdentity = staticClientIdentity(plan.as, options.client);
  const transport = { fetch: plan.fetch, timeoutMs: plan.requestTimeoutMs, signal: options.signal };
  const idp = await resolveIdp(options.idp, { ...transport, allowInsecureHttp: plan.allowInsecureHttp });
  const dpop = await prepareLoginDPoP(options.dpop, options.auth);
  const idJag: StoredIdJag = {
    idp,
    idpClient: staticClientIdentity({}, options.idp.client),
    idTokenFile: options.idp.idTokenFile,
    audience: plan.as.issuer,
    resource: options.auth.resource ?? plan.resource ?? options.auth.serverUrl,
  };
  return options.store.withLock(
    grantKey(plan.name),
    async () => {
      const config = await configurationFor(plan.as, client, transport);
      const { response, resource } = await requestIdJagAccessToken(
        config,
        idJag,
        plan.scopes,
        plan.resource,
        transport,
        dpop?.options(config),
      );
      return persistLogin(
        { ...options, client: undefined },
        plan,
        'id_jag',
        client,
        resource,
        toStoredTokens(response),
        response.scope,
        { idJag, dpop: dpop?.keyFor(response) },
      );
    },
    { signal: options.signal },
  );
}
