/**
 * `createTokenExchangeMiddleware`: after auth, swap the validated inbound token for an upstream token
 * (RFC 8693), or fetch the proxy's own service token (`client_credentials`), cache it, and put it
 * into the upstream request. Every failure fails closed.
 */
import type { Exchange, Middleware, Next, ProxyResponse, ReadinessStatus } from '@bastion-mcp/proxy-core';
import { publishCacheLookup } from '@bastion-mcp/proxy-core';
import { cacheKey, hashToken, type Loaded, type LookupSource, TokenCache } from './cache.js';
import { NoSubjectTokenError, TokenExchangeError, TokenExchangeErrorCode } from './errors.js';
import { type ResolvedOptions, resolveOptions, type TokenExchangeOptions } from './options.js';
import { StsClient, type StsToken } from './sts.js';

/** What the middleware records in `exchange.notes.tokenExchange` for audit and telemetry. */
export interface TokenExchangeNote {
  readonly grant: 'token-exchange' | 'client_credentials';
  /** `success`, or why the request was refused. */
  readonly outcome:
    | 'success'
    | 'no-subject-token'
    | 'rejected'
    | 'refused'
    | 'unavailable'
    | 'bad-response'
    | 'error';
  /** `true` when the token came from the cache without any STS call. */
  readonly cached: boolean;
  /** `true` when this request waited for an STS call another request had started. */
  readonly coalesced?: boolean | undefined;
  /** `ERR_BASTION_TOKEN_EXCHANGE_*` code of the failure. */
  readonly errorCode?: string | undefined;
}

const OUTCOME_BY_CODE: Record<string, TokenExchangeNote['outcome']> = {
  [TokenExchangeErrorCode.NoSubjectToken]: 'no-subject-token',
  [TokenExchangeErrorCode.Rejected]: 'rejected',
  [TokenExchangeErrorCode.Refused]: 'refused',
  [TokenExchangeErrorCode.Unavailable]: 'unavailable',
  [TokenExchangeErrorCode.BadResponse]: 'bad-response',
};

/** The token-exchange middleware, with a few introspection helpers for apps and tests. */
export interface TokenExchangeMiddleware extends Middleware {
  readonly name: 'token-exchange';
  /** The cache in use (shared when `options.cache` was given). */
  readonly cache: TokenCache<string>;
}

/**
 * Create the middleware. Place it right after auth (PRODUCT.md §1.2).
 *
 * @throws TypeError when an option is invalid (the message names it).
 */
export function createTokenExchangeMiddleware(options: TokenExchangeOptions): TokenExchangeMiddleware {
  const o = resolveOptions(options);
  const sts = new StsClient(o);
  const cache = o.cache ?? new TokenCache<string>({ maxEntries: o.maxCacheEntries, now: o.now });
  // Everything that selects a different token besides the subject: STS, client, grant and target.
  const namespace = [
    o.grant,
    (o.tokenUrl ?? o.issuer)?.href ?? '',
    o.clientId,
    o.subjectTokenType,
    o.requestedTokenType ?? '',
    o.audience.join(' '),
    o.scope ?? '',
    o.resource.join(' '),
  ];
  const ccKey = cacheKey(namespace);

  async function obtain(exchange: Exchange): Promise<{ token: string; source: LookupSource }> {
    if (o.grant === 'client_credentials') {
      if (exchange.identity === undefined) throw new NoSubjectTokenError(o.challenge);
      const lookup = await cache.getOrLoad(ccKey, async () =>
        lifetime(o, await sts.clientCredentials(exchange)),
      );
      return { token: lookup.value, source: lookup.source };
    }
    const subject = exchange.inboundToken;
    if (!subject) throw new NoSubjectTokenError(o.challenge);
    const subjectExpMs =
      exchange.identity?.expiresAt !== undefined ? exchange.identity.expiresAt * 1000 : undefined;
    const key = cacheKey([hashToken(subject), ...namespace]);
    const lookup = await cache.getOrLoad(key, async () =>
      lifetime(o, await sts.exchange(subject, exchange), subjectExpMs),
    );
    return { token: lookup.value, source: lookup.source };
  }

  function inject(exchange: Exchange, token: string): void {
    const headers = exchange.upstreamHeaders;
    if (o.header === undefined) {
      headers.authorization = `Bearer ${token}`;
      return;
    }
    headers[o.header.name] = o.header.scheme ? `${o.header.scheme} ${token}` : token;
    const original = exchange.inboundToken;
    if (o.header.keepOriginal && original) headers.authorization = `Bearer ${original}`;
    else delete headers.authorization;
  }

  return {
    name: 'token-exchange',
    cache,
    async handle(exchange: Exchange, next: Next): Promise<ProxyResponse> {
      const grant = o.grant;
      let result: { token: string; source: LookupSource };
      try {
        result = await obtain(exchange);
      } catch (err) {
        const code = TokenExchangeError.isInstance(err) ? err.code : undefined;
        if (code !== TokenExchangeErrorCode.NoSubjectToken) publishCacheLookup('token-exchange', 'miss');
        exchange.notes.tokenExchange = {
          grant,
          outcome: (code && OUTCOME_BY_CODE[code]) || 'error',
          cached: false,
          errorCode: code,
        } satisfies TokenExchangeNote;
        exchange.notes.rejectedBy = 'token-exchange';
        const level =
          code === TokenExchangeErrorCode.Rejected || code === TokenExchangeErrorCode.NoSubjectToken;
        exchange.log[level ? 'debug' : 'warn']({ errorCode: code, grant }, 'token exchange failed');
        throw err;
      }
      publishCacheLookup('token-exchange', result.source === 'hit' ? 'hit' : 'miss');
      inject(exchange, result.token);
      exchange.notes.upstreamCredential = grant === 'client_credentials' ? 'client-credentials' : 'exchange';
      exchange.notes.tokenExchange = {
        grant,
        outcome: 'success',
        cached: result.source === 'hit',
        ...(result.source === 'coalesced' ? { coalesced: true } : {}),
      } satisfies TokenExchangeNote;
      return next();
    },
    readiness(): ReadinessStatus {
      if (sts.configured) return { ready: true };
      // Configuration (discovery, key import) runs on demand: start it so a later probe can pass.
      void sts.configuration().catch(() => {});
      if (o.tokenUrl && sts.lastConfigError === undefined) return { ready: true };
      const what = o.tokenUrl ? 'STS client configuration' : 'STS discovery';
      return {
        ready: false,
        detail: sts.lastConfigError ? `${what} failed (${sts.lastConfigError})` : `${what} pending`,
      };
    },
    async close(): Promise<void> {
      if (!o.cache) cache.clear();
    },
  };
}

/** Cache lifetime: `expires_in` − skew, never past the subject token's own expiry. */
function lifetime(o: ResolvedOptions, token: StsToken, subjectExpMs?: number): Loaded<string> {
  const now = o.now();
  let expiresAtMs =
    token.expiresIn !== undefined ? now + token.expiresIn * 1000 - o.expirySkewMs : now + o.defaultTtlMs;
  if (subjectExpMs !== undefined) expiresAtMs = Math.min(expiresAtMs, subjectExpMs);
  return { value: token.accessToken, expiresAtMs };
}
