/**
 * Options of `createTokenExchangeMiddleware`, their defaults, and the hand-written validation that
 * turns them into a frozen, normalised configuration (a `TypeError` naming the option on misuse).
 */
import type { KeyObject, webcrypto } from 'node:crypto';
import type { JWK } from 'jose';
import type { CustomFetch } from 'openid-client';
import type { TokenCache } from './cache.js';
import type { ChallengeOptions } from './errors.js';

export const GRANT_TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** RFC 8693 §3 token type identifiers. */
export const TokenType = {
  access_token: 'urn:ietf:params:oauth:token-type:access_token',
  refresh_token: 'urn:ietf:params:oauth:token-type:refresh_token',
  id_token: 'urn:ietf:params:oauth:token-type:id_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
  saml1: 'urn:ietf:params:oauth:token-type:saml1',
  saml2: 'urn:ietf:params:oauth:token-type:saml2',
} as const;

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';

/** Where the exchanged token goes in the upstream request. */
export interface HeaderInjectionOptions {
  /** Header name to carry the exchanged token (not `authorization` and no hop-by-hop/framing header). */
  readonly name: string;
  /** Also send the client's own token upstream as `Authorization: Bearer …`. Default `false`. */
  readonly keepOriginal?: boolean | undefined;
  /** Scheme prefix of the header value. Default `'Bearer'`; `''` sends the bare token. */
  readonly scheme?: string | undefined;
}

export interface TokenExchangeOptions {
  /** `'token-exchange'` (RFC 8693, default) or `'client_credentials'` (one service token for all users). */
  readonly grant?: 'token-exchange' | 'client_credentials' | undefined;
  /** The STS token endpoint. One of `tokenUrl` or `issuer` is required. */
  readonly tokenUrl?: string | undefined;
  /**
   * Authorization server issuer. Without `tokenUrl` it is discovered (RFC 8414 / OIDC discovery, lazily
   * on first use and on `readiness()`). With `tokenUrl` it is only the `aud` of `private_key_jwt`
   * assertions (default: `tokenUrl`).
   */
  readonly issuer?: string | undefined;
  /** OAuth client id of the proxy at the STS. */
  readonly clientId: string;
  /**
   * Client authentication method. Default: `client_secret_basic` when `clientSecret` is given,
   * `private_key_jwt` when `privateKey` is given.
   */
  readonly clientAuth?: ClientAuthMethod | undefined;
  /** Client secret (the app reads it from an env var or a file; never put it in a config file). */
  readonly clientSecret?: string | undefined;
  /** Private key for `private_key_jwt`: a CryptoKey, a KeyObject, a private JWK, or PKCS#8 PEM. */
  readonly privateKey?: webcrypto.CryptoKey | KeyObject | JWK | string | undefined;
  /** JWS algorithm of the client assertion, for PEM/KeyObject keys (default `RS256`) or JWKs without `alg`. */
  readonly privateKeyAlg?: string | undefined;
  /** `kid` header of the client assertion (default: the JWK's `kid`). */
  readonly privateKeyId?: string | undefined;
  /** RFC 8693 `audience` (one or several). */
  readonly audience?: string | readonly string[] | undefined;
  /** RFC 8707 / 8693 `resource` (one or several absolute URIs). */
  readonly resource?: string | readonly string[] | undefined;
  /** Requested scopes (sent space-joined as `scope`). */
  readonly scope?: string | readonly string[] | undefined;
  /** `subject_token_type`: `access_token` (default), `id_token`, `jwt`, or a full URN. */
  readonly subjectTokenType?: string | undefined;
  /** `requested_token_type`: default `access_token`; `null` omits the parameter. */
  readonly requestedTokenType?: string | null | undefined;
  /** Where to inject the token. Default: replace the upstream `Authorization` header. */
  readonly header?: HeaderInjectionOptions | undefined;
  /** Cached tokens expire this long before the STS's `expires_in`. Default 30 000 ms. */
  readonly expirySkewMs?: number | undefined;
  /** Cache lifetime when the STS omits `expires_in`. Default 60 000 ms. */
  readonly defaultTtlMs?: number | undefined;
  /** Bound of the cache this middleware creates (ignored with `cache`). Default 10 000; `0` = no cache. */
  readonly maxCacheEntries?: number | undefined;
  /** A cache to share between middlewares (keys include STS, client, audience, scope, resource). */
  readonly cache?: TokenCache<string> | undefined;
  /** STS (and discovery) request timeout. Default 10 000 ms. */
  readonly timeoutMs?: number | undefined;
  /** `Retry-After` of 503 answers when the STS sent none. Default 5 s. */
  readonly retryAfterSeconds?: number | undefined;
  /** Allow plain `http:` STS/issuer URLs (loopback tests and local development only). Default `false`. */
  readonly allowInsecureRequests?: boolean | undefined;
  /** Fetch implementation for STS/discovery requests (proxies, custom CAs). Default: global `fetch`. */
  readonly fetch?: CustomFetch | undefined;
  /** Parameters of the 401 challenge; set them to what the auth middleware advertises. */
  readonly challenge?: ChallengeOptions | undefined;
  /** Clock in epoch milliseconds (tests). Default `Date.now`. */
  readonly now?: (() => number) | undefined;
}

/** The validated configuration. */
export interface ResolvedOptions {
  readonly grant: 'token-exchange' | 'client_credentials';
  readonly tokenUrl: URL | undefined;
  readonly issuer: URL | undefined;
  /** The issuer identifier exactly as configured (identifiers are compared as strings). */
  readonly issuerId: string | undefined;
  readonly clientId: string;
  readonly clientAuth: ClientAuthMethod;
  readonly clientSecret: string | undefined;
  readonly privateKey: webcrypto.CryptoKey | KeyObject | JWK | string | undefined;
  readonly privateKeyAlg: string | undefined;
  readonly privateKeyId: string | undefined;
  readonly audience: readonly string[];
  readonly resource: readonly string[];
  readonly scope: string | undefined;
  readonly subjectTokenType: string;
  readonly requestedTokenType: string | undefined;
  readonly header:
    | { readonly name: string; readonly keepOriginal: boolean; readonly scheme: string }
    | undefined;
  readonly expirySkewMs: number;
  readonly defaultTtlMs: number;
  readonly maxCacheEntries: number;
  readonly cache: TokenCache<string> | undefined;
  readonly timeoutMs: number;
  readonly retryAfterSeconds: number;
  readonly allowInsecureRequests: boolean;
  readonly fetch: CustomFetch | undefined;
  readonly challenge: ChallengeOptions | undefined;
  readonly now: () => number;
}

const TOKEN_CHARS = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers whose meaning is the transport's, or that carry the client's credential. */
const FORBIDDEN_HEADERS = new Set([
  'authorization',
  'connection',
  'content-length',
  'content-type',
  'cookie',
  'expect',
  'host',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function str(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0)
    throw new TypeError(`"${name}" must be a non-empty string`);
  return value;
}

function list(value: unknown, name: string): string[] {
  if (value === undefined) return [];
  const items = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(items) || items.some((v) => typeof v !== 'string' || v.length === 0)) {
    throw new TypeError(`"${name}" must be a non-empty string or an array of non-empty strings`);
  }
  return [...items];
}

function url(value: unknown, name: string, allowInsecure: boolean): URL | undefined {
  const s = str(value, name);
  if (s === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new TypeError(`"${name}" must be an absolute URL`);
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && allowInsecure)) {
    throw new TypeError(
      `"${name}" must be an https: URL (set "allowInsecureRequests" to allow http: for loopback tests)`,
    );
  }
  if (u.username || u.password) throw new TypeError(`"${name}" must not contain credentials`);
  return u;
}

function ms(value: unknown, name: string, def: number): number {
  if (value === undefined) return def;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`"${name}" must be a non-negative number of milliseconds`);
  }
  return value;
}

function tokenType(value: unknown, name: string): string {
  const s = str(value, name);
  if (s === undefined) throw new TypeError(`"${name}" must be a non-empty string`);
  if (Object.hasOwn(TokenType, s)) return TokenType[s as keyof typeof TokenType];
  if (/^urn:/i.test(s)) return s;
  throw new TypeError(`"${name}" must be one of ${Object.keys(TokenType).join(', ')} or a token type URN`);
}

/** Validate and normalise the options. @throws TypeError naming the offending option. */
export function resolveOptions(options: TokenExchangeOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('"options" must be an object');
  const grant = options.grant ?? 'token-exchange';
  if (grant !== 'token-exchange' && grant !== 'client_credentials') {
    throw new TypeError('"grant" must be "token-exchange" or "client_credentials"');
  }
  if (options.allowInsecureRequests !== undefined && typeof options.allowInsecureRequests !== 'boolean') {
    throw new TypeError('"allowInsecureRequests" must be a boolean');
  }
  const allowInsecure = options.allowInsecureRequests === true;
  const tokenUrl = url(options.tokenUrl, 'tokenUrl', allowInsecure);
  const issuer = url(options.issuer, 'issuer', allowInsecure);
  if (!tokenUrl && !issuer) throw new TypeError('one of "tokenUrl" or "issuer" is required');
  const clientId = str(options.clientId, 'clientId');
  if (clientId === undefined) throw new TypeError('"clientId" must be a non-empty string');

  const clientSecret = str(options.clientSecret, 'clientSecret');
  const privateKey = options.privateKey;
  const clientAuth: ClientAuthMethod =
    options.clientAuth ??
    (clientSecret !== undefined
      ? 'client_secret_basic'
      : privateKey !== undefined
        ? 'private_key_jwt'
        : 'none');
  if (!['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'].includes(clientAuth)) {
    throw new TypeError(
      '"clientAuth" must be "client_secret_basic", "client_secret_post", "private_key_jwt" or "none"',
    );
  }
  if ((clientAuth === 'client_secret_basic' || clientAuth === 'client_secret_post') && !clientSecret) {
    throw new TypeError(`"clientSecret" is required with "clientAuth" "${clientAuth}"`);
  }
  if (clientAuth === 'private_key_jwt') {
    if (privateKey === undefined || privateKey === null) {
      throw new TypeError('"privateKey" is required with "clientAuth" "private_key_jwt"');
    }
    if (typeof privateKey === 'string' && !privateKey.includes('PRIVATE KEY-----')) {
      throw new TypeError(
        '"privateKey" must be a PKCS#8 PEM string, a private JWK, a KeyObject or a CryptoKey',
      );
    }
  }
  if (clientAuth !== 'private_key_jwt' && privateKey !== undefined) {
    throw new TypeError('"privateKey" is only used with "clientAuth" "private_key_jwt"');
  }
  if (clientAuth === 'private_key_jwt' && clientSecret !== undefined) {
    throw new TypeError('"clientSecret" is not used with "clientAuth" "private_key_jwt"');
  }

  const scopes = list(options.scope, 'scope').flatMap((s) => s.split(/\s+/).filter(Boolean));
  let header: ResolvedOptions['header'];
  if (options.header !== undefined) {
    const h = options.header;
    if (typeof h !== 'object' || h === null) throw new TypeError('"header" must be an object');
    const name = str(h.name, 'header.name')?.toLowerCase();
    if (name === undefined || !TOKEN_CHARS.test(name))
      throw new TypeError('"header.name" must be a valid header name');
    if (FORBIDDEN_HEADERS.has(name)) {
      throw new TypeError(
        `"header.name" must not be "${name}"${name === 'authorization' ? ' (omit "header" to replace Authorization)' : ''}`,
      );
    }
    if (h.keepOriginal !== undefined && typeof h.keepOriginal !== 'boolean') {
      throw new TypeError('"header.keepOriginal" must be a boolean');
    }
    const scheme = h.scheme ?? 'Bearer';
    if (typeof scheme !== 'string' || (scheme !== '' && !TOKEN_CHARS.test(scheme))) {
      throw new TypeError('"header.scheme" must be an auth scheme name or ""');
    }
    header = { name, keepOriginal: h.keepOriginal === true, scheme };
  }

  const retryAfterSeconds = options.retryAfterSeconds ?? 5;
  if (!Number.isSafeInteger(retryAfterSeconds) || retryAfterSeconds < 0) {
    throw new TypeError('"retryAfterSeconds" must be a non-negative integer');
  }
  const maxCacheEntries = options.maxCacheEntries ?? 10_000;
  if (!Number.isSafeInteger(maxCacheEntries) || maxCacheEntries < 0) {
    throw new TypeError('"maxCacheEntries" must be a non-negative integer');
  }
  if (
    options.cache !== undefined &&
    (typeof options.cache !== 'object' || typeof options.cache.getOrLoad !== 'function')
  ) {
    throw new TypeError('"cache" must be a TokenCache');
  }
  if (options.fetch !== undefined && typeof options.fetch !== 'function')
    throw new TypeError('"fetch" must be a function');
  if (options.now !== undefined && typeof options.now !== 'function')
    throw new TypeError('"now" must be a function');
  const timeoutMs = ms(options.timeoutMs, 'timeoutMs', 10_000);
  if (timeoutMs === 0) throw new TypeError('"timeoutMs" must be greater than 0');
  if (options.challenge !== undefined) {
    str(options.challenge.realm, 'challenge.realm');
    str(options.challenge.resourceMetadataUrl, 'challenge.resourceMetadataUrl');
  }
  if (options.privateKeyAlg !== undefined) str(options.privateKeyAlg, 'privateKeyAlg');
  if (options.privateKeyId !== undefined) str(options.privateKeyId, 'privateKeyId');

  return Object.freeze({
    grant,
    tokenUrl,
    issuer,
    issuerId: issuer ? (options.issuer as string) : undefined,
    clientId,
    clientAuth,
    clientSecret,
    privateKey,
    privateKeyAlg: options.privateKeyAlg,
    privateKeyId: options.privateKeyId,
    audience: list(options.audience, 'audience'),
    resource: list(options.resource, 'resource'),
    scope: scopes.length > 0 ? scopes.join(' ') : undefined,
    subjectTokenType: tokenType(options.subjectTokenType ?? 'access_token', 'subjectTokenType'),
    requestedTokenType:
      options.requestedTokenType === null
        ? undefined
        : tokenType(options.requestedTokenType ?? 'access_token', 'requestedTokenType'),
    header,
    expirySkewMs: ms(options.expirySkewMs, 'expirySkewMs', 30_000),
    defaultTtlMs: ms(options.defaultTtlMs, 'defaultTtlMs', 60_000),
    maxCacheEntries,
    cache: options.cache,
    timeoutMs,
    retryAfterSeconds,
    allowInsecureRequests: allowInsecure,
    fetch: options.fetch,
    challenge: options.challenge,
    now: options.now ?? Date.now,
  });
}
