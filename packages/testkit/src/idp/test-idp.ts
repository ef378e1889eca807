import { createHash, randomBytes } from 'node:crypto';
import { IncomingMessage, type ServerResponse } from 'node:http';
import type { Provider } from 'oidc-provider';
import { createClients, TOKEN_EXCHANGE_GRANT, type TestClients } from './clients.js';
import { assertFault, type EndpointFault, SlowGate, writeFault } from './faults.js';
import { formFields, HeadlessAgent } from './headless.js';
import { handleInteraction, isInteractionPath } from './interactions.js';
import { generateSigningKey } from './keys.js';
import { loadProvider } from './load-provider.js';
import { MemoryStore } from './memory-adapter.js';
import { accountClaims, buildConfiguration } from './provider-config.js';
import { RestartableServer } from './restartable-server.js';
import type { AccessTokenFormat, AccountClaims, IdpState, ResourceConfig } from './state.js';
import { TOKEN_EXCHANGE_DUPLICATES, TOKEN_EXCHANGE_PARAMS, tokenExchangeHandler } from './token-exchange.js';
import { AssertionGrants, JWT_BEARER_GRANT, JWT_BEARER_PARAMS } from './assertion-grants.js';

/** Endpoints counted in `idp.hits` and targetable by `idp.setFault()`. */
export type IdpEndpoint =
  | 'discovery'
  | 'jwks'
  | 'authorization'
  | 'token'
  | 'introspection'
  | 'revocation'
  | 'registration'
  | 'deviceAuthorization'
  | 'userinfo'
  | 'interaction';

export type IdpHits = Record<IdpEndpoint | 'tokenExchange', number>;

/** One request received at the token, introspection or revocation endpoint. */
export interface RecordedOAuthRequest {
  endpoint: 'token' | 'introspection' | 'revocation';
  /** `grant_type` of token requests. */
  grantType: string | undefined;
  /** Every form field as received (client secrets and tokens included — test data only). */
  params: Record<string, string | string[]>;
  /** `Authorization` header as received. */
  authorization: string | undefined;
  /** How the client authenticated, derived from the request (not whether it succeeded). */
  clientAuthMethod: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';
  /** Client id from Basic credentials or the `client_id` field. */
  clientId: string | undefined;
}

export interface TestIdpOptions {
  /** Default access-token lifetime (all resources without their own). Default 3600. */
  accessTokenTtlSeconds?: number;
  /** Refresh-token lifetime. Default 86400. */
  refreshTokenTtlSeconds?: number;
  /** Rotate refresh tokens on every use (the old one becomes invalid). Default true. */
  rotateRefreshTokens?: boolean;
  /**
   * Accounts by subject: claims released in ID tokens, userinfo and access tokens (e.g. `{ alice:
   * { email, name, groups: ['eng'], realm_access: { roles: ['admin'] } } }`). Subjects not listed
   * still sign in, with `sub` only. Default: `alice` and `bob` (see README).
   */
  accounts?: Record<string, AccountClaims>;
  /** Copy account claims into access tokens (JWT payload / introspection). Default true. */
  includeAccountClaimsInAccessTokens?: boolean;
  /** Scopes the default resources accept. Default `['mcp:tools', 'mcp:read', 'mcp:write', 'mcp:admin']`. */
  scopes?: string[];
  /** JWT-format resource indicator. Default `'https://mcp.bastion.test/jwt'`. */
  resource?: string;
  /** Opaque-format resource indicator. Default `'https://mcp.bastion.test/opaque'`. */
  opaqueResource?: string;
  /** More resources (e.g. token-exchange audiences), added to the two defaults. */
  resources?: Array<{
    identifier: string;
    format?: AccessTokenFormat;
    scopes?: string[];
    ttlSeconds?: number;
  }>;
  /** Also serve the metadata at `/.well-known/oauth-authorization-server` (RFC 8414). Default true. */
  oauthAuthorizationServerMetadata?: boolean;
  /**
   * Require a server-issued nonce in DPoP proofs at the token endpoint (RFC 9449 §8: the first
   * proof without one is answered `use_dpop_nonce` with a `DPoP-Nonce` header). DPoP itself is
   * always on (oidc-provider default: ES256, EdDSA). Default false.
   */
  dpopRequireNonce?: boolean;
}

export interface IssueAccessTokenOptions {
  sub: string;
  /** Space-separated scopes; those the resource does not accept are dropped. */
  scope?: string;
  /** Resource indicator; default `idp.resource` (JWT). Use `idp.opaqueResource` for an opaque token. */
  resource?: string;
  /** Claims merged over the account's claims (registered claims like `iss`/`aud`/`exp` cannot be set). */
  claims?: Record<string, unknown>;
  /** Lifetime; default the resource's. */
  ttlSeconds?: number;
  /** `client_id` of the token. Default `idp.clients.cli.clientId`. */
  clientId?: string;
}

export interface AuthorizeResult {
  /** The full redirect the IdP sent the user agent to (the client's `redirect_uri` with parameters). */
  redirectedTo: string;
  code: string | undefined;
  state: string | undefined;
  /** RFC 9207 `iss` parameter. */
  iss: string | undefined;
  error: string | undefined;
  errorDescription: string | undefined;
  /** When `deliver` was set: the answer of the client's redirect endpoint. */
  callback?: { status: number; body: string };
}

export interface HeadlessLoginOptions {
  /** Default `idp.clients.cli.clientId` (public). */
  clientId?: string;
  /** Secret of a confidential client (sent with client_secret_basic at the token endpoint). */
  clientSecret?: string;
  /** Default `http://127.0.0.1:53682/callback` (loopback; any port matches for native clients). */
  redirectUri?: string;
  /** Account to sign in as. Default `'alice'`. */
  username?: string;
  /** Default: a random verifier (returned). PKCE S256 is always used. */
  codeVerifier?: string;
  /** Default `'openid offline_access mcp:tools'`. */
  scope?: string;
  /** Resource indicator sent in the authorization and token requests. Default `idp.resource`; `null` omits it. */
  resource?: string | null;
  /** Extra authorization request parameters. */
  extraParams?: Record<string, string>;
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in?: number;
  refresh_token?: string;
  id_token?: string;
  scope?: string;
  [key: string]: unknown;
}

export interface HeadlessLoginResult {
  tokens: TokenResponse;
  code: string;
  codeVerifier: string;
  /** `iss` returned in the authorization response (RFC 9207). */
  iss: string | undefined;
}

export interface TestIdp {
  /** `http://127.0.0.1:<port>` */
  readonly issuer: string;
  readonly discoveryUrl: string;
  readonly jwksUri: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly introspectionEndpoint: string;
  readonly revocationEndpoint: string;
  readonly registrationEndpoint: string;
  readonly deviceAuthorizationEndpoint: string;
  readonly userinfoEndpoint: string;
  /** JWT-format resource indicator (`aud` of its tokens). */
  readonly resource: string;
  /** Opaque-format resource indicator (introspect its tokens). */
  readonly opaqueResource: string;
  readonly clients: TestClients;
  /** Requests counted per endpoint since start (faulted ones included). `token` includes `tokenExchange`. */
  readonly hits: IdpHits;
  /** Token/introspection/revocation requests received, oldest first. */
  readonly requests: readonly RecordedOAuthRequest[];
  /** kid of the current signing key. */
  readonly currentKid: string;
  /** Whether the HTTP server is accepting connections. */
  readonly running: boolean;
  /** The underlying oidc-provider instance (rebuilt by `rotateKeys()`). */
  readonly provider: Provider;
  /**
   * The JWT-bearer grant and ID-JAG issuance (see assertion-grants.ts): `trustIssuer(issuer,
   * jwksUri)` for workload JWTs and ID-JAGs, `setIdJagClient(audience, clientId)`.
   */
  readonly assertionGrants: AssertionGrants;
  issueAccessToken(options: IssueAccessTokenOptions): Promise<string>;
  /** Adds (or replaces) a resource server, e.g. the proxy URL a CLI test logs in for. */
  addResource(
    identifier: string,
    options?: { format?: AccessTokenFormat; scopes?: string[]; ttlSeconds?: number },
  ): void;
  /** Adds or replaces an account's claims. */
  setAccount(sub: string, claims: AccountClaims): void;
  /** Interactions complete as this account without showing the login form (`undefined` restores it). */
  setAutoLogin(sub: string | undefined): void;
  /**
   * New RS256 signing key, current from now on. The previous keys stay in the JWKS unless
   * `retainPrevious` is false. Returns the new and previous kids.
   */
  rotateKeys(options?: { retainPrevious?: boolean }): { kid: string; previousKid: string };
  /** Drops every non-current key from the JWKS. */
  pruneKeys(): void;
  /**
   * Patches both discovery documents until cleared with `null` (a field set to `undefined` is
   * removed), e.g. `{ issuer: 'http://evil.test' }` for issuer-mismatch tests or
   * `{ code_challenge_methods_supported: undefined }` for "no S256" tests. The provider itself is
   * unchanged.
   */
  setMetadataOverride(patch: Record<string, unknown> | null): void;
  /** Faults an endpoint until cleared with `null`. `grantType` limits a token fault to one grant. */
  setFault(endpoint: IdpEndpoint, fault: EndpointFault | null, options?: { grantType?: string }): void;
  /** `setFault('token', fault)`. */
  setTokenEndpointFault(fault: EndpointFault | null, options?: { grantType?: string }): void;
  /** Revokes every grant (and its refresh/access tokens) of a subject, optionally only for one client. */
  revokeGrants(filter: { sub?: string; clientId?: string }): Promise<number>;
  /** Drives an authorization URL to the client's redirect (login with `username`), optionally GETting it. */
  authorize(
    authorizationUrl: string | URL,
    options?: { username?: string; deliver?: boolean },
  ): Promise<AuthorizeResult>;
  /** Authorization code + PKCE S256 + token request, without a browser. */
  loginHeadless(options?: HeadlessLoginOptions): Promise<HeadlessLoginResult>;
  /** Enters `userCode` on the device page and signs in as `username` (or aborts with `deny`). */
  approveDevice(userCode: string, options?: { username?: string; deny?: boolean }): Promise<void>;
  /** Stops the HTTP server (connection refused); state is kept. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_ACCOUNTS: Record<string, AccountClaims> = {
  alice: {
    email: 'alice@example.test',
    email_verified: true,
    name: 'Alice Liddell',
    preferred_username: 'alice',
    groups: ['engineering', 'admins'],
    realm_access: { roles: ['mcp-admin', 'mcp-user'] },
  },
  bob: {
    email: 'bob@example.test',
    email_verified: true,
    name: 'Bob Builder',
    preferred_username: 'bob',
    groups: ['sales'],
    realm_access: { roles: ['mcp-user'] },
  },
};

const DEFAULT_SCOPES = ['mcp:tools', 'mcp:read', 'mcp:write', 'mcp:admin'];

function positiveInt(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new TypeError(`${option} must be a positive integer`);
  }
  return value;
}

const ROUTES: Array<[string, IdpEndpoint]> = [
  ['/.well-known/openid-configuration', 'discovery'],
  ['/.well-known/oauth-authorization-server', 'discovery'],
  ['/jwks', 'jwks'],
  ['/auth', 'authorization'],
  ['/token', 'token'],
  ['/token/introspection', 'introspection'],
  ['/token/revocation', 'revocation'],
  ['/reg', 'registration'],
  ['/device/auth', 'deviceAuthorization'],
  ['/me', 'userinfo'],
];

function classify(pathname: string): IdpEndpoint | undefined {
  if (isInteractionPath(pathname)) return 'interaction';
  return ROUTES.find(([path]) => path === pathname)?.[1];
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A fresh request object carrying an already-read body, for the provider to parse again. */
function replay(req: IncomingMessage, body: Buffer): IncomingMessage {
  const clone = new IncomingMessage(req.socket);
  clone.method = req.method;
  clone.url = req.url;
  clone.headers = req.headers;
  clone.rawHeaders = req.rawHeaders;
  clone.httpVersion = req.httpVersion;
  clone.httpVersionMajor = req.httpVersionMajor;
  clone.httpVersionMinor = req.httpVersionMinor;
  // Marked complete so that ending the clone does not destroy the shared socket.
  clone.complete = true;
  clone.push(body);
  clone.push(null);
  return clone;
}

function describeClientAuth(
  params: URLSearchParams,
  authorization: string | undefined,
): Pick<RecordedOAuthRequest, 'clientAuthMethod' | 'clientId'> {
  if (authorization?.toLowerCase().startsWith('basic ')) {
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const user = decoded.slice(0, Math.max(0, decoded.indexOf(':')));
    return {
      clientAuthMethod: 'client_secret_basic',
      clientId: decodeURIComponent(user.replace(/\+/g, ' ')),
    };
  }
  const clientId = params.get('client_id') ?? undefined;
  if (params.has('client_assertion')) return { clientAuthMethod: 'private_key_jwt', clientId };
  if (params.has('client_secret')) return { clientAuthMethod: 'client_secret_post', clientId };
  return { clientAuthMethod: 'none', clientId };
}

function formToRecord(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key);
    out[key] = all.length === 1 ? (all[0] as string) : all;
  }
  return out;
}

/** Rewrites the JSON body the provider writes to `res`, applying `patch` (undefined removes a field). */
function patchJsonResponse(res: ServerResponse, patch: Record<string, unknown>): void {
  const chunks: Buffer[] = [];
  const end = res.end.bind(res) as (body: string) => ServerResponse;
  const collect = (chunk: unknown): void => {
    if (typeof chunk === 'string' || chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
  };
  res.write = ((chunk: unknown) => {
    collect(chunk);
    return true;
  }) as ServerResponse['write'];
  res.end = ((chunk?: unknown) => {
    collect(chunk);
    let body = Buffer.concat(chunks).toString('utf8');
    try {
      const doc = { ...(JSON.parse(body) as Record<string, unknown>), ...patch };
      body = JSON.stringify(Object.fromEntries(Object.entries(doc).filter(([, v]) => v !== undefined)));
    } catch {
      // Not JSON (an error page): pass it through untouched.
    }
    if (!res.headersSent) {
      res.setHeader('content-length', Buffer.byteLength(body));
      res.removeHeader('etag');
    }
    return end(body);
  }) as ServerResponse['end'];
}

/**
 * Starts a real OAuth 2.1 / OpenID Connect provider (`oidc-provider`) on `http://127.0.0.1:<port>`
 * with everything Bastion's tests need: resource indicators with JWT and opaque access tokens,
 * introspection, revocation, DCR, client credentials, device flow, authorization code + PKCE with
 * rotating refresh tokens, an RFC 8693 token-exchange grant, a username-only login page, headless
 * login helpers, key rotation, per-endpoint hit counters, fault injection and stop/start.
 */
export async function startTestIdp(options: TestIdpOptions = {}): Promise<TestIdp> {
  const accessTokenTtlSeconds = positiveInt(
    options.accessTokenTtlSeconds,
    'options.accessTokenTtlSeconds',
    3600,
  );
  const refreshTokenTtlSeconds = positiveInt(
    options.refreshTokenTtlSeconds,
    'options.refreshTokenTtlSeconds',
    86400,
  );
  if (
    options.scopes !== undefined &&
    (!Array.isArray(options.scopes) ||
      options.scopes.some((s) => typeof s !== 'string' || /\s/.test(s) || s === ''))
  ) {
    throw new TypeError('options.scopes must be an array of scope tokens');
  }
  const scopes = options.scopes ?? DEFAULT_SCOPES;
  const resource = options.resource ?? 'https://mcp.bastion.test/jwt';
  const opaqueResource = options.opaqueResource ?? 'https://mcp.bastion.test/opaque';
  for (const [name, value] of [
    ['options.resource', resource],
    ['options.opaqueResource', opaqueResource],
  ] as const) {
    if (typeof value !== 'string' || !URL.canParse(value))
      throw new TypeError(`${name} must be an absolute URL`);
  }

  const Provider = await loadProvider();
  const { errors } = await import('oidc-provider');

  const resources = new Map<string, ResourceConfig>();
  const putResource = (
    identifier: string,
    o: { format?: AccessTokenFormat; scopes?: string[]; ttlSeconds?: number } = {},
  ) => {
    if (typeof identifier !== 'string' || identifier === '')
      throw new TypeError('resource identifier must be a non-empty string');
    if (o.format !== undefined && o.format !== 'jwt' && o.format !== 'opaque')
      throw new TypeError("format must be 'jwt' or 'opaque'");
    resources.set(identifier, {
      identifier,
      format: o.format ?? 'jwt',
      scopes: o.scopes ?? scopes,
      ...(o.ttlSeconds !== undefined ? { ttlSeconds: positiveInt(o.ttlSeconds, 'ttlSeconds', 1) } : {}),
    });
  };
  putResource(resource, { format: 'jwt' });
  putResource(opaqueResource, { format: 'opaque' });
  for (const r of options.resources ?? []) putResource(r.identifier, r);

  const { clients, staticMetadata, storedMetadata } = createClients();
  const store = new MemoryStore();
  for (const metadata of storedMetadata) {
    await store.adapterFor('Client').upsert(metadata.client_id, { ...metadata });
  }
  let generation = 1;
  const state: IdpState = {
    issuer: '',
    store,
    accounts: new Map(Object.entries(options.accounts ?? DEFAULT_ACCOUNTS)),
    resources,
    scopes: [...new Set([...scopes, ...[...resources.values()].flatMap((r) => r.scopes)])],
    keys: { current: generateSigningKey(generation), retained: [] },
    clientMetadata: staticMetadata,
    cookieKeys: [randomBytes(32).toString('base64url')],
    accessTokenTtlSeconds,
    refreshTokenTtlSeconds,
    rotateRefreshTokens: options.rotateRefreshTokens ?? true,
    includeAccountClaimsInAccessTokens: options.includeAccountClaimsInAccessTokens ?? true,
    tokenExtras: new WeakMap(),
    autoLogin: undefined,
    dpopNonceSecret: options.dpopRequireNonce ? randomBytes(32) : undefined,
  };
  const serveOAuthMetadata = options.oauthAuthorizationServerMetadata ?? true;

  const hits: IdpHits = {
    discovery: 0,
    jwks: 0,
    authorization: 0,
    token: 0,
    tokenExchange: 0,
    introspection: 0,
    revocation: 0,
    registration: 0,
    deviceAuthorization: 0,
    userinfo: 0,
    interaction: 0,
  };
  const requests: RecordedOAuthRequest[] = [];
  const faults = new Map<IdpEndpoint, { fault: EndpointFault; grantType?: string }>();
  const gate = new SlowGate();
  let metadataOverride: Record<string, unknown> | null = null;
  const assertionGrants = new AssertionGrants();

  let provider: Provider;
  let callback: ReturnType<Provider['callback']>;
  const build = (): void => {
    const next = new Provider(state.issuer, buildConfiguration(state, errors));
    next.proxy = false;
    next.registerGrantType(
      TOKEN_EXCHANGE_GRANT,
      assertionGrants.tokenExchangeHandler(state, errors, tokenExchangeHandler(state, errors)),
      TOKEN_EXCHANGE_PARAMS,
      TOKEN_EXCHANGE_DUPLICATES,
    );
    next.registerGrantType(JWT_BEARER_GRANT, assertionGrants.jwtBearerHandler(state, errors), [
      ...JWT_BEARER_PARAMS,
    ]);
    provider = next;
    callback = next.callback();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const endpoint = classify(url.pathname);
    let forward: IncomingMessage = req;
    let grantType: string | undefined;
    if (endpoint) hits[endpoint] += 1;
    if (
      req.method === 'POST' &&
      (endpoint === 'token' || endpoint === 'introspection' || endpoint === 'revocation')
    ) {
      const body = await readBody(req);
      const form = new URLSearchParams(
        String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
          ? body.toString('utf8')
          : '',
      );
      grantType = form.get('grant_type') ?? undefined;
      if (endpoint === 'token' && grantType === TOKEN_EXCHANGE_GRANT) hits.tokenExchange += 1;
      const authorization = req.headers.authorization;
      requests.push({
        endpoint,
        grantType,
        params: formToRecord(form),
        authorization,
        ...describeClientAuth(form, authorization),
      });
      forward = replay(req, body);
    }
    const fault = endpoint ? faults.get(endpoint) : undefined;
    if (fault && (fault.grantType === undefined || fault.grantType === grantType)) {
      if (writeFault(res, fault.fault)) return;
      await gate.hold();
    }
    if (endpoint === 'interaction') {
      await handleInteraction(state, provider, forward, res, url.pathname);
      return;
    }
    if (url.pathname === '/.well-known/oauth-authorization-server') {
      if (!serveOAuthMetadata) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":"invalid_request","error_description":"unrecognized route or not allowed method"}');
        return;
      }
      forward.url = `/.well-known/openid-configuration${url.search}`;
    }
    if (endpoint === 'discovery' && metadataOverride) patchJsonResponse(res, metadataOverride);
    callback(forward, res);
  };

  const server = new RestartableServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"error":"server_error"}');
      } else {
        res.destroy();
      }
    });
  });
  await server.start();
  state.issuer = server.origin;
  build();

  const issuer = state.issuer;
  const issueAccessToken = async (o: IssueAccessTokenOptions): Promise<string> => {
    if (typeof o?.sub !== 'string' || o.sub === '')
      throw new TypeError('options.sub must be a non-empty string');
    const indicator = o.resource ?? resource;
    const target = state.resources.get(indicator);
    if (!target)
      throw new TypeError(`options.resource ${indicator} is not a resource of this IdP (addResource first)`);
    const ttl = o.ttlSeconds === undefined ? undefined : positiveInt(o.ttlSeconds, 'options.ttlSeconds', 1);
    const client = await provider.Client.find(o.clientId ?? clients.cli.clientId);
    if (!client) throw new TypeError(`options.clientId ${o.clientId} is not a registered client`);
    const allowed = new Set(target.scopes);
    const scope = (o.scope ?? '')
      .split(' ')
      .filter((s) => allowed.has(s))
      .join(' ');
    // A real grant backs the token, so introspection checks it and revokeGrants() revokes it.
    const grant = new provider.Grant({ accountId: o.sub, clientId: client.clientId });
    grant.addResourceScope(target.identifier, scope);
    const grantId = await grant.save();
    const token = new provider.AccessToken({
      accountId: o.sub,
      client,
      grantId,
      gty: 'urn:bastion:testkit:issue',
      scope: scope || undefined,
    });
    token.resourceServer = new provider.ResourceServer(target.identifier, {
      audience: target.identifier,
      scope: target.scopes.join(' '),
      accessTokenTTL: ttl ?? target.ttlSeconds ?? state.accessTokenTtlSeconds,
      accessTokenFormat: target.format,
      ...(target.format === 'jwt' ? { jwt: { sign: { alg: 'RS256', kid: state.keys.current.kid } } } : {}),
    });
    const { sub: _sub, ...base } = state.includeAccountClaimsInAccessTokens
      ? accountClaims(state, o.sub)
      : {};
    const claims = { ...base, ...o.claims };
    state.tokenExtras.set(token, {
      ...(Object.keys(claims).length > 0 ? { claims } : { claims: {} }),
      ...(ttl !== undefined ? { ttlSeconds: ttl } : {}),
    });
    return token.save();
  };

  const authorize = async (
    authorizationUrl: string | URL,
    o: { username?: string; deliver?: boolean } = {},
  ): Promise<AuthorizeResult> => {
    const agent = new HeadlessAgent();
    let next: { url: URL; form?: Record<string, string> } = { url: new URL(authorizationUrl) };
    for (let hop = 0; hop < 20; hop += 1) {
      const res = await agent.request(next.url, next.form ? { form: next.form } : {});
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        const target = new URL(location, next.url);
        await res.arrayBuffer();
        if (target.origin !== issuer) {
          const p = target.searchParams;
          const result: AuthorizeResult = {
            redirectedTo: target.href,
            code: p.get('code') ?? undefined,
            state: p.get('state') ?? undefined,
            iss: p.get('iss') ?? undefined,
            error: p.get('error') ?? undefined,
            errorDescription: p.get('error_description') ?? undefined,
          };
          if (o.deliver) {
            const delivered = await fetch(target, { redirect: 'manual' });
            result.callback = { status: delivered.status, body: await delivered.text() };
          }
          return result;
        }
        next = { url: target };
        continue;
      }
      const html = await res.text();
      const login = res.status === 200 ? formFields(html, 'login') : undefined;
      if (login) {
        next = { url: new URL(login.action, next.url), form: { username: o.username ?? 'alice' } };
        continue;
      }
      throw new Error(
        `authorization stopped at ${next.url.pathname} with HTTP ${res.status}: ${html.slice(0, 300)}`,
      );
    }
    throw new Error('authorization did not finish within 20 redirects');
  };

  const tokenRequest = async (
    form: Record<string, string>,
    clientId: string,
    clientSecret?: string,
  ): Promise<TokenResponse> => {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    const body = new URLSearchParams(form);
    if (clientSecret !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
    } else {
      body.set('client_id', clientId);
    }
    const res = await fetch(`${issuer}/token`, { method: 'POST', headers, body });
    const json = (await res.json()) as TokenResponse & { error?: string; error_description?: string };
    if (!res.ok)
      throw new Error(
        `token request failed: ${json.error ?? res.status} ${json.error_description ?? ''}`.trim(),
      );
    return json;
  };

  const idp: TestIdp = {
    issuer,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    jwksUri: `${issuer}/jwks`,
    authorizationEndpoint: `${issuer}/auth`,
    tokenEndpoint: `${issuer}/token`,
    introspectionEndpoint: `${issuer}/token/introspection`,
    revocationEndpoint: `${issuer}/token/revocation`,
    registrationEndpoint: `${issuer}/reg`,
    deviceAuthorizationEndpoint: `${issuer}/device/auth`,
    userinfoEndpoint: `${issuer}/me`,
    resource,
    opaqueResource,
    clients,
    hits,
    requests,
    get currentKid() {
      return state.keys.current.kid;
    },
    get running() {
      return server.running;
    },
    get provider() {
      return provider;
    },
    assertionGrants,
    issueAccessToken,
    addResource(identifier, o = {}) {
      putResource(identifier, o);
      const known = new Set(state.scopes);
      if (o.scopes?.some((s) => !known.has(s))) {
        state.scopes = [...new Set([...state.scopes, ...o.scopes])];
        build();
      }
    },
    setAccount(sub, claims) {
      if (typeof sub !== 'string' || sub === '') throw new TypeError('sub must be a non-empty string');
      state.accounts.set(sub, { ...claims });
    },
    setAutoLogin(sub) {
      state.autoLogin = sub;
    },
    rotateKeys(o = {}) {
      const previous = state.keys.current;
      generation += 1;
      state.keys = {
        current: generateSigningKey(generation),
        retained: o.retainPrevious === false ? [] : [previous, ...state.keys.retained],
      };
      build();
      return { kid: state.keys.current.kid, previousKid: previous.kid };
    },
    pruneKeys() {
      state.keys = { current: state.keys.current, retained: [] };
      build();
    },
    setMetadataOverride(patch) {
      if (patch !== null && (typeof patch !== 'object' || Array.isArray(patch))) {
        throw new TypeError('patch must be an object or null');
      }
      metadataOverride = patch === null ? null : { ...patch };
    },
    setFault(endpoint, fault, o = {}) {
      assertFault(fault, 'fault');
      if (!(endpoint in hits) || endpoint === ('tokenExchange' as IdpEndpoint)) {
        throw new TypeError(
          `endpoint must be one of ${Object.keys(hits)
            .filter((k) => k !== 'tokenExchange')
            .join(', ')}`,
        );
      }
      if (fault === null) faults.delete(endpoint);
      else faults.set(endpoint, { fault, ...(o.grantType ? { grantType: o.grantType } : {}) });
      if (![...faults.values()].some((f) => f.fault === 'slow')) gate.releaseAll();
    },
    setTokenEndpointFault(fault, o) {
      idp.setFault('token', fault, o);
    },
    async revokeGrants(filter) {
      let revoked = 0;
      for (const [id, payload] of [...state.store.live('Grant')]) {
        if (filter.sub !== undefined && payload.accountId !== filter.sub) continue;
        if (filter.clientId !== undefined && payload.clientId !== filter.clientId) continue;
        state.store.revokeByGrantId(id);
        state.store.model('Grant').delete(id);
        revoked += 1;
      }
      return revoked;
    },
    authorize,
    async loginHeadless(o = {}) {
      const clientId = o.clientId ?? clients.cli.clientId;
      const redirectUri = o.redirectUri ?? 'http://127.0.0.1:53682/callback';
      const codeVerifier = o.codeVerifier ?? randomBytes(32).toString('base64url');
      const challenge = createHash('sha256').update(codeVerifier).digest('base64url');
      const stateParam = randomBytes(12).toString('base64url');
      const resourceParam = o.resource === null ? undefined : (o.resource ?? resource);
      const url = new URL(`${issuer}/auth`);
      const params: Record<string, string> = {
        client_id: clientId,
        response_type: 'code',
        redirect_uri: redirectUri,
        scope: o.scope ?? 'openid offline_access mcp:tools',
        state: stateParam,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        ...(resourceParam ? { resource: resourceParam } : {}),
        ...o.extraParams,
      };
      for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
      const result = await authorize(url, o.username !== undefined ? { username: o.username } : {});
      if (result.error || !result.code) {
        throw new Error(
          `authorization failed: ${result.error ?? 'no code'} ${result.errorDescription ?? ''}`.trim(),
        );
      }
      if (result.state !== stateParam) throw new Error('authorization response state mismatch');
      const tokens = await tokenRequest(
        {
          grant_type: 'authorization_code',
          code: result.code,
          redirect_uri: redirectUri,
          code_verifier: codeVerifier,
          ...(resourceParam ? { resource: resourceParam } : {}),
        },
        clientId,
        o.clientSecret,
      );
      return { tokens, code: result.code, codeVerifier, iss: result.iss };
    },
    async approveDevice(userCode, o = {}) {
      const agent = new HeadlessAgent();
      const devicePage = new URL(`${issuer}/device`);
      const input = formFields(await (await agent.request(devicePage)).text(), 'op.deviceInputForm');
      if (!input) throw new Error('device input page has no form');
      const confirmRes = await agent.request(new URL(input.action, devicePage), {
        form: { ...input.fields, user_code: userCode },
      });
      const confirmHtml = await confirmRes.text();
      const confirm = formFields(confirmHtml, 'op.deviceConfirmForm');
      if (!confirm) throw new Error(`device code not accepted (HTTP ${confirmRes.status})`);
      let next: { url: URL; form?: Record<string, string> } = {
        url: new URL(confirm.action, devicePage),
        form: { ...confirm.fields, ...(o.deny ? { abort: 'yes' } : {}) },
      };
      for (let hop = 0; hop < 20; hop += 1) {
        const res = await agent.request(next.url, next.form ? { form: next.form } : {});
        const location = res.headers.get('location');
        if (res.status >= 300 && res.status < 400 && location) {
          await res.arrayBuffer();
          next = { url: new URL(location, next.url) };
          continue;
        }
        const html = await res.text();
        const login = res.status === 200 ? formFields(html, 'login') : undefined;
        if (login) {
          next = { url: new URL(login.action, next.url), form: { username: o.username ?? 'alice' } };
          continue;
        }
        if (res.status === 200) return;
        throw new Error(
          `device approval stopped at ${next.url.pathname} with HTTP ${res.status}: ${html.slice(0, 300)}`,
        );
      }
      throw new Error('device approval did not finish within 20 redirects');
    },
    async stop() {
      gate.releaseAll();
      await server.stop();
    },
    async start() {
      await server.start();
    },
    async close() {
      gate.releaseAll();
      await server.close();
    },
  };
  return idp;
}
