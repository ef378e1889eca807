/**
 * Client identity (MCP 2025-11-25 order): a pre-registered client id (and secret), else a Client ID
 * Metadata Document URL when the AS advertises `client_id_metadata_document_supported`, else RFC 7591
 * dynamic registration, cached per AS in the token store and reused while it still fits.
 */
import type { AuthorizationServerMetadata } from './authorization-server.js';
import {
  type ClientIdentity,
  loadRegistration,
  registrationKey,
  type StoredRegistration,
  type TokenEndpointAuthMethod,
} from './credentials.js';
import { OAuthClientError, OAuthClientErrorCode } from './errors.js';
import { type FetchLike, httpRequest, readJsonObject, stringArray } from './internal/http.js';
import { assertSecureUrl } from './internal/url.js';
import type { TokenStore } from './store/types.js';

export interface ClientOptions {
  /** Pre-registered client id (`--client-id`). */
  clientId?: string | undefined;
  /** Secret of the pre-registered client (`--client-secret(-file)`); omit for a public client. */
  clientSecret?: string | undefined;
  /** How to send the secret. Default: `client_secret_basic` unless the AS only lists `client_secret_post`. */
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod | undefined;
  /** HTTPS URL of a Client ID Metadata Document, used when the AS advertises support and no client id is given. */
  clientMetadataUrl?: string | undefined;
  /** `client_name` sent in dynamic registration. Default: `'Bastion'`. */
  clientName?: string | undefined;
}

export interface ResolveClientContext {
  as: AuthorizationServerMetadata;
  store: TokenStore;
  client: ClientOptions | undefined;
  /** The grant types the flow needs (`authorization_code`, `refresh_token`, device code URN, …). */
  grantTypes: string[];
  /** Required for the authorization code flow. */
  redirectUri?: string | undefined;
  scopes?: string[] | undefined;
  fetch: FetchLike;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  allowInsecureHttp: boolean;
  /** Force a new registration even when a cached one fits. */
  forceRegistration?: boolean | undefined;
  confidential?: boolean | undefined;
}

export function validateClientOptions(client: ClientOptions | undefined): void {
  if (!client) return;
  for (const key of ['clientId', 'clientSecret', 'clientName'] as const) {
    const v = client[key];
    if (v !== undefined && (typeof v !== 'string' || v === ''))
      throw new TypeError(`"client.${key}" must be a non-empty string`);
  }
  if (client.clientSecret !== undefined && client.clientId === undefined) {
    throw new TypeError('"client.clientSecret" needs "client.clientId"');
  }
  const method = client.tokenEndpointAuthMethod;
  if (method !== undefined && !['none', 'client_secret_basic', 'client_secret_post'].includes(method)) {
    throw new TypeError(
      '"client.tokenEndpointAuthMethod" must be none, client_secret_basic or client_secret_post',
    );
  }
  if (client.clientMetadataUrl !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(client.clientMetadataUrl);
    } catch {
      // handled below
    }
    if (url?.protocol !== 'https:' || url.pathname === '/' || url.hash) {
      throw new TypeError('"client.clientMetadataUrl" must be an https URL with a path and no fragment');
    }
  }
}

function staticAuthMethod(as: AuthorizationServerMetadata, client: ClientOptions): TokenEndpointAuthMethod {
  if (!client.clientSecret) return 'none';
  if (client.tokenEndpointAuthMethod) return client.tokenEndpointAuthMethod;
  const supported = as.token_endpoint_auth_methods_supported;
  if (
    Array.isArray(supported) &&
    !supported.includes('client_secret_basic') &&
    supported.includes('client_secret_post')
  ) {
    return 'client_secret_post';
  }
  return 'client_secret_basic';
}

function registrationFits(reg: StoredRegistration, ctx: ResolveClientContext): boolean {
  if (ctx.redirectUri && !reg.redirectUris.includes(ctx.redirectUri)) return false;
  if (!ctx.grantTypes.every((g) => reg.grantTypes.includes(g))) return false;
  if (ctx.confidential && !reg.clientSecret) return false;
  // A client registered with a `scope` may be limited to it (a step-up needs a wider registration).
  if (reg.scopes && ctx.scopes && !ctx.scopes.every((s) => reg.scopes?.includes(s))) return false;
  if (reg.clientSecretExpiresAt && reg.clientSecretExpiresAt - 60_000 < Date.now()) return false;
  return true;
}

/** Picks or creates the client identity for a flow. */
export async function resolveClientIdentity(ctx: ResolveClientContext): Promise<ClientIdentity> {
  const client = ctx.client ?? {};
  if (client.clientId) {
    return {
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      tokenEndpointAuthMethod: staticAuthMethod(ctx.as, client),
      source: 'static',
    };
  }
  if (
    client.clientMetadataUrl &&
    ctx.as['client_id_metadata_document_supported'] === true &&
    !ctx.confidential
  ) {
    return { clientId: client.clientMetadataUrl, tokenEndpointAuthMethod: 'none', source: 'cimd' };
  }
  if (!ctx.forceRegistration) {
    const cached = await loadRegistration(ctx.store, ctx.as.issuer);
    if (cached && registrationFits(cached, ctx)) return identityOf(cached);
  }
  const reg = await registerClient(ctx, client);
  await ctx.store.set(registrationKey(ctx.as.issuer), reg);
  return identityOf(reg);
}

function identityOf(reg: StoredRegistration): ClientIdentity {
  return {
    clientId: reg.clientId,
    clientSecret: reg.clientSecret,
    tokenEndpointAuthMethod: reg.clientSecret ? reg.tokenEndpointAuthMethod : 'none',
    source: 'dcr',
  };
}

async function registerClient(ctx: ResolveClientContext, client: ClientOptions): Promise<StoredRegistration> {
  const endpoint = ctx.as.registration_endpoint;
  if (typeof endpoint !== 'string') {
    throw new OAuthClientError(
      OAuthClientErrorCode.NoClient,
      `The authorization server ${ctx.as.issuer} supports no dynamic client registration; register a client with it and pass its client id (and secret)`,
    );
  }
  assertSecureUrl(endpoint, 'registration endpoint', ctx.allowInsecureHttp);
  const authMethod: TokenEndpointAuthMethod = ctx.confidential ? 'client_secret_basic' : 'none';
  const body: Record<string, unknown> = {
    client_name: client.clientName ?? 'Bastion',
    application_type: 'native',
    grant_types: ctx.grantTypes,
    response_types: ctx.grantTypes.includes('authorization_code') ? ['code'] : [],
    token_endpoint_auth_method: authMethod,
  };
  if (ctx.redirectUri) body['redirect_uris'] = [ctx.redirectUri];
  if (ctx.scopes && ctx.scopes.length > 0) body['scope'] = ctx.scopes.join(' ');
  const res = await httpRequest(
    endpoint,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    },
    { fetch: ctx.fetch, timeoutMs: ctx.timeoutMs, signal: ctx.signal },
    `client registration at ${endpoint}`,
  );
  const doc = await readJsonObject(res);
  if (res.status !== 200 && res.status !== 201) {
    const error = typeof doc?.['error'] === 'string' ? doc['error'] : undefined;
    const hint =
      res.status === 404 || res.status === 405 || res.status === 501
        ? '; the server does not support RFC 7591 registration, register a client out of band and pass its client id'
        : '';
    throw new OAuthClientError(
      OAuthClientErrorCode.Registration,
      `Dynamic client registration at ${endpoint} failed with HTTP ${res.status}${error ? ` (${error})` : ''}${hint}`,
      { status: res.status, oauthError: error, retryable: res.status >= 500 },
    );
  }
  if (!doc || typeof doc['client_id'] !== 'string' || doc['client_id'] === '') {
    throw new OAuthClientError(
      OAuthClientErrorCode.Registration,
      `Dynamic client registration at ${endpoint} returned no client_id`,
    );
  }
  const secret = typeof doc['client_secret'] === 'string' ? doc['client_secret'] : undefined;
  const expiresAt =
    typeof doc['client_secret_expires_at'] === 'number' ? doc['client_secret_expires_at'] * 1000 : undefined;
  const returnedMethod = doc['token_endpoint_auth_method'];
  return {
    version: 1,
    issuer: ctx.as.issuer,
    clientId: doc['client_id'],
    clientSecret: secret,
    clientSecretExpiresAt: expiresAt,
    tokenEndpointAuthMethod:
      returnedMethod === 'client_secret_post' ||
      returnedMethod === 'client_secret_basic' ||
      returnedMethod === 'none'
        ? returnedMethod
        : authMethod,
    redirectUris: stringArray(doc['redirect_uris']) ?? (ctx.redirectUri ? [ctx.redirectUri] : []),
    grantTypes: stringArray(doc['grant_types']) ?? ctx.grantTypes,
    scopes: registeredScopes(doc['scope'], ctx.scopes),
    registeredAt: Date.now(),
    ...managementOf(doc, endpoint, ctx.allowInsecureHttp),
  };
}

function registeredScopes(returned: unknown, requested: string[] | undefined): string[] | undefined {
  const list = typeof returned === 'string' ? returned.split(/\s+/).filter((s) => s !== '') : undefined;
  if (list && list.length > 0) return list;
  return requested && requested.length > 0 ? [...requested] : undefined;
}

/**
 * The RFC 7592 management pair of a registration response, when both are present and the client URI
 * is a secure URL on the registration endpoint's origin (the access token is never sent elsewhere).
 */
function managementOf(
  doc: Record<string, unknown>,
  endpoint: string,
  allowInsecureHttp: boolean,
): Pick<StoredRegistration, 'registrationClientUri' | 'registrationAccessToken'> {
  const uri = doc['registration_client_uri'];
  const token = doc['registration_access_token'];
  if (typeof uri !== 'string' || typeof token !== 'string' || token === '') return {};
  try {
    const parsed = assertSecureUrl(uri, 'registration client URI', allowInsecureHttp);
    if (parsed.origin !== new URL(endpoint).origin) return {};
  } catch {
    return {};
  }
  return { registrationClientUri: uri, registrationAccessToken: token };
}
