/**
 * The STS client: an openid-client `Configuration` (discovered from the issuer, or built from the
 * token endpoint), created once and shared, and the two grants this package performs.
 */
import type { Exchange } from '@bastion-mcp/proxy-core';
import { traceIdpCall } from '@bastion-mcp/proxy-core';
import * as oidc from 'openid-client';
import { classifyStsError } from './classify.js';
import { buildClientAuth } from './client-auth.js';
import {
  TokenExchangeBadResponseError,
  TokenExchangeConfigError,
  TokenExchangeUnavailableError,
} from './errors.js';
import { GRANT_TOKEN_EXCHANGE, type ResolvedOptions } from './options.js';

/** The parts of a token response this package uses (refresh tokens are deliberately dropped). */
export interface StsToken {
  readonly accessToken: string;
  /** Lifetime in seconds, when the STS sent one. */
  readonly expiresIn: number | undefined;
  /** RFC 8693 `issued_token_type` (token exchange only). */
  readonly issuedTokenType: string | undefined;
}

/** Visible ASCII only: the token goes into an HTTP header. */
const HEADER_SAFE = /^[\x21-\x7e]+$/;

export class StsClient {
  readonly #options: ResolvedOptions;
  #config: oidc.Configuration | undefined;
  #configuring: Promise<oidc.Configuration> | undefined;
  #lastConfigError: string | undefined;

  constructor(options: ResolvedOptions) {
    this.#options = options;
  }

  /** `true` once the configuration exists (discovery done, key imported). */
  get configured(): boolean {
    return this.#config !== undefined;
  }

  /** Code of the last configuration failure, for `/ready`. */
  get lastConfigError(): string | undefined {
    return this.#lastConfigError;
  }

  /** The token endpoint, for diagnostics (the issuer before discovery). */
  get endpoint(): string {
    const fromConfig = this.#config?.serverMetadata().token_endpoint;
    return fromConfig ?? (this.#options.tokenUrl ?? this.#options.issuer)?.href ?? '';
  }

  /** The shared configuration, built once; concurrent callers share one discovery. */
  configuration(exchange?: Exchange): Promise<oidc.Configuration> {
    if (this.#config) return Promise.resolve(this.#config);
    this.#configuring ??= this.#configure(exchange).then(
      (config) => {
        this.#config = config;
        this.#configuring = undefined;
        this.#lastConfigError = undefined;
        return config;
      },
      (err: unknown) => {
        this.#configuring = undefined;
        this.#lastConfigError = (err as { code?: string }).code ?? 'ERR_UNKNOWN';
        throw err;
      },
    );
    return this.#configuring;
  }

  async #configure(exchange: Exchange | undefined): Promise<oidc.Configuration> {
    const o = this.#options;
    let clientAuth: Awaited<ReturnType<typeof buildClientAuth>>;
    try {
      clientAuth = await buildClientAuth(o);
    } catch (err) {
      throw new TokenExchangeConfigError('the private key could not be imported', err);
    }
    const { auth, metadata } = clientAuth;
    const timeout = o.timeoutMs / 1000;
    if (o.tokenUrl) {
      const server: oidc.ServerMetadata = {
        issuer: o.issuerId ?? o.tokenUrl.href,
        token_endpoint: o.tokenUrl.href,
      };
      const config = new oidc.Configuration(server, o.clientId, metadata, auth);
      if (o.allowInsecureRequests) oidc.allowInsecureRequests(config);
      if (o.fetch) config[oidc.customFetch] = o.fetch;
      config.timeout = timeout;
      return config;
    }
    const issuer = o.issuer as URL;
    const config = await traceIdpCall('discovery', issuer.href, exchange, async () => {
      try {
        return await oidc.discovery(issuer, o.clientId, metadata, auth, {
          execute: o.allowInsecureRequests ? [oidc.allowInsecureRequests] : [],
          timeout,
          ...(o.fetch ? { [oidc.customFetch]: o.fetch } : {}),
        });
      } catch (err) {
        const mapped = classifyStsError(err, {
          retryAfterSeconds: o.retryAfterSeconds,
          challenge: undefined,
        });
        throw mapped instanceof TokenExchangeUnavailableError
          ? mapped
          : new TokenExchangeUnavailableError(
              { stsStatus: mapped.stsStatus, clientCode: mapped.clientCode },
              o.retryAfterSeconds,
              'discovery of the STS failed',
            );
      }
    });
    if (!config.serverMetadata().token_endpoint) {
      throw new TokenExchangeUnavailableError(
        {},
        o.retryAfterSeconds,
        'the discovered metadata has no token_endpoint',
      );
    }
    return config;
  }

  /** RFC 8693 token exchange of `subjectToken`. @throws TokenExchangeError */
  async exchange(subjectToken: string, exchange: Exchange | undefined): Promise<StsToken> {
    const o = this.#options;
    const params = new URLSearchParams();
    params.set('subject_token', subjectToken);
    params.set('subject_token_type', o.subjectTokenType);
    if (o.requestedTokenType) params.set('requested_token_type', o.requestedTokenType);
    this.#addTarget(params);
    return this.#call('token-exchange', exchange, (config) =>
      oidc.genericGrantRequest(config, GRANT_TOKEN_EXCHANGE, params),
    );
  }

  /** `client_credentials` grant (the proxy's own identity). @throws TokenExchangeError */
  async clientCredentials(exchange: Exchange | undefined): Promise<StsToken> {
    const params = new URLSearchParams();
    this.#addTarget(params);
    return this.#call('client-credentials', exchange, (config) =>
      oidc.clientCredentialsGrant(config, params),
    );
  }

  #addTarget(params: URLSearchParams): void {
    const o = this.#options;
    for (const a of o.audience) params.append('audience', a);
    for (const r of o.resource) params.append('resource', r);
    if (o.scope) params.set('scope', o.scope);
  }

  async #call(
    kind: 'token-exchange' | 'client-credentials',
    exchange: Exchange | undefined,
    grant: (config: oidc.Configuration) => Promise<oidc.TokenEndpointResponse>,
  ): Promise<StsToken> {
    const config = await this.configuration(exchange);
    const url = config.serverMetadata().token_endpoint ?? '';
    const response = await traceIdpCall(kind, url, exchange, async () => {
      try {
        return await grant(config);
      } catch (err) {
        throw classifyStsError(err, {
          retryAfterSeconds: this.#options.retryAfterSeconds,
          challenge: this.#options.challenge,
        });
      }
    });
    return this.#validate(kind, response);
  }

  #validate(kind: 'token-exchange' | 'client-credentials', response: oidc.TokenEndpointResponse): StsToken {
    const accessToken = response.access_token;
    if (typeof accessToken !== 'string' || accessToken.length === 0) {
      throw new TokenExchangeBadResponseError({}, 'no access_token');
    }
    if (!HEADER_SAFE.test(accessToken)) {
      throw new TokenExchangeBadResponseError({}, 'access_token is not a valid header value');
    }
    if (response.token_type === 'dpop') {
      throw new TokenExchangeBadResponseError({}, 'DPoP-bound tokens are not supported');
    }
    const issued = (response as { issued_token_type?: unknown }).issued_token_type;
    if (kind === 'token-exchange' && (typeof issued !== 'string' || issued.length === 0)) {
      throw new TokenExchangeBadResponseError({}, 'no issued_token_type');
    }
    const expiresIn =
      typeof response.expires_in === 'number' && response.expires_in >= 0 ? response.expires_in : undefined;
    return { accessToken, expiresIn, issuedTokenType: typeof issued === 'string' ? issued : undefined };
  }
}
