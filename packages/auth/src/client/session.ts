/**
 * `OAuthSession`: the token lifecycle of one workload. Hands out access tokens, refreshes them before
 * expiry and once on an upstream 401, saves rotated refresh tokens, retries transient AS failures
 * with backoff (status `auth_retrying`), and turns `invalid_grant` into `unauthenticated`. Every
 * refresh happens under the workload's cross-process lock after re-reading the store, so several
 * instances of one workload share a single refresh.
 */
import {
  type CryptoKeyPair,
  type DPoPHandle,
  type DPoPOptions,
  getDPoPHandle,
  refreshTokenGrant,
  type TokenEndpointResponse,
} from 'openid-client';
import { type Backoff, createBackoff, type RetryOptions, validateRetryOptions } from './backoff.js';
import { requestClientCredentials } from './client-credentials.js';
import {
  assertWorkloadName,
  grantKey,
  loadGrant,
  type StoredGrant,
  type StoredTokens,
  saveGrant,
} from './credentials.js';
import { createDPoPProver, type DPoPProver, importDPoPKeyPair, type StoredDPoPKey } from './dpop.js';
import { OAuthClientError, OAuthClientErrorCode, ReauthenticationRequiredError } from './errors.js';
import type { FetchLike } from './internal/http.js';
import { configurationFor } from './client-auth.js';
import { requestIdJagAccessToken } from './id-jag.js';
import { requestJwtBearerFromFile } from './jwt-bearer.js';
import { classifyGrantError, toStoredTokens } from './openid.js';
import type { TokenStore } from './store/types.js';

export type OAuthSessionStatus = 'authenticated' | 'auth_retrying' | 'unauthenticated';

export interface OAuthStatusChange {
  status: OAuthSessionStatus;
  previous: OAuthSessionStatus;
  /** Why: the failure that led to `auth_retrying` / `unauthenticated` (message safe to show). */
  error?: OAuthClientError | undefined;
  /** Epoch ms of the next background retry (`auth_retrying` only). */
  retryAt?: number | undefined;
}

/** What the proxy needs from any upstream credential source (OAuth session or static token). */
export interface AccessTokenProvider {
  readonly status: OAuthSessionStatus;
  /** A usable access token, refreshing when needed. Throws when none is usable (answer 503 + Retry-After). */
  getAccessToken(): Promise<string>;
  /** The upstream answered 401 to `rejectedToken`: refresh once and return the new token, or throw. */
  handleUnauthorized(rejectedToken?: string): Promise<string>;
  /** Seconds a client should wait before retrying while no token is usable. */
  retryAfterSeconds(): number;
  onStatusChange(listener: (change: OAuthStatusChange) => void): () => void;
  close(): void;
}

export interface OAuthSessionOptions {
  name: string;
  store: TokenStore;
  /** Refresh this long before the access token expires, in ms. Default: 60000. */
  refreshSkewMs?: number | undefined;
  /** Backoff of background retries after transient AS failures. */
  retry?: RetryOptions | undefined;
  /** How long to wait for another instance holding the workload lock, in ms. Default: 30000. */
  lockTimeoutMs?: number | undefined;
  fetch?: FetchLike | undefined;
  /** Timeout of each token request, in ms. Default: 30000. */
  requestTimeoutMs?: number | undefined;
  onStatusChange?: ((change: OAuthStatusChange) => void) | undefined;
}

/** The DPoP key of a session's grant, imported once. */
interface SessionDPoP {
  jkt: string;
  keyPair: Promise<CryptoKeyPair>;
  prover: Promise<DPoPProver>;
  handle?: DPoPHandle | undefined;
}

/** Seconds suggested to clients while the workload is `unauthenticated` (a login may happen any time). */
const UNAUTHENTICATED_RETRY_AFTER_S = 30;

export class OAuthSession implements AccessTokenProvider {
  readonly name: string;
  #store: TokenStore;
  #grant: StoredGrant | undefined;
  #status: OAuthSessionStatus;
  #lastError: OAuthClientError | undefined;
  #listeners = new Set<(change: OAuthStatusChange) => void>();
  #inflight: Promise<string> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #retryAt: number | undefined;
  #backoff: Backoff;
  #skewMs: number;
  #lockTimeoutMs: number;
  #fetch: FetchLike | undefined;
  #requestTimeoutMs: number;
  #closed = false;
  /** DPoP material of the grant's key (rebuilt when a new login brings a new key). */
  #dpop: SessionDPoP | undefined;

  private constructor(options: OAuthSessionOptions, grant: StoredGrant | undefined) {
    this.name = options.name;
    this.#store = options.store;
    this.#grant = grant;
    this.#status = grant?.tokens ? 'authenticated' : 'unauthenticated';
    this.#backoff = createBackoff(validateRetryOptions(options.retry));
    this.#skewMs = options.refreshSkewMs ?? 60_000;
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 30_000;
    this.#fetch = options.fetch;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    if (options.onStatusChange) this.#listeners.add(options.onStatusChange);
  }

  /**
   * Opens the session of workload `name` from the store. A workload that never logged in (or whose
   * grant was revoked) starts `unauthenticated`; `getAccessToken` re-reads the store, so a later
   * `bastion login` in another process is picked up without a restart.
   */
  static async open(options: OAuthSessionOptions): Promise<OAuthSession> {
    if (!options || typeof options !== 'object') throw new TypeError('session options must be an object');
    assertWorkloadName(options.name);
    if (!options.store || typeof options.store.withLock !== 'function')
      throw new TypeError('"store" must be a TokenStore');
    for (const key of ['refreshSkewMs', 'lockTimeoutMs', 'requestTimeoutMs'] as const) {
      const v = options[key];
      if (v !== undefined && (!Number.isFinite(v) || v < 0))
        throw new TypeError(`"${key}" must be a non-negative number`);
    }
    validateRetryOptions(options.retry);
    const grant = await loadGrant(options.store, options.name);
    return new OAuthSession(options, grant);
  }

  get status(): OAuthSessionStatus {
    return this.#status;
  }

  /** The failure behind the current `auth_retrying` / `unauthenticated` status. */
  get lastError(): OAuthClientError | undefined {
    return this.#lastError;
  }

  /** Scopes granted to the current token (for step-up unions). */
  get scopes(): string[] | undefined {
    return this.#grant?.grantedScopes ?? this.#grant?.scopes;
  }

  /** Epoch ms at which the current access token expires, when known. */
  get expiresAt(): number | undefined {
    return this.#grant?.tokens?.expiresAt;
  }

  /**
   * The DPoP prover of the current token when it is DPoP-bound (RFC 9449): present it as
   * `Authorization: DPoP <token>` with `prover.proof(...)` in the `DPoP` header of every request.
   * Undefined for a Bearer token. The prover remembers the servers' `DPoP-Nonce` values per origin.
   *
   * @throws OAuthClientError `ERR_BASTION_OAUTH_STORE` when the stored key is unusable.
   */
  async dpopProver(): Promise<DPoPProver | undefined> {
    const grant = this.#grant;
    if (!grant?.dpop || grant.tokens?.tokenType.toLowerCase() !== 'dpop') return undefined;
    return this.#dpopFor(grant.dpop).prover;
  }

  #dpopFor(key: StoredDPoPKey): SessionDPoP {
    if (this.#dpop?.jkt !== key.jkt) {
      const keyPair = importDPoPKeyPair(key, this.name);
      const prover = createDPoPProver(key, this.name);
      // Rejections surface where the promises are awaited; never unhandled.
      keyPair.catch(() => {});
      prover.catch(() => {});
      this.#dpop = { jkt: key.jkt, keyPair, prover };
    }
    return this.#dpop;
  }

  /** `{ DPoP }` for token requests of a DPoP grant (one handle per key: it keeps the AS nonce). */
  async #dpopOptions(
    grant: StoredGrant,
    config: Parameters<typeof getDPoPHandle>[0],
  ): Promise<DPoPOptions | undefined> {
    if (!grant.dpop) return undefined;
    const entry = this.#dpopFor(grant.dpop);
    entry.handle ??= getDPoPHandle(config, await entry.keyPair);
    return { DPoP: entry.handle };
  }

  retryAfterSeconds(): number {
    if (this.#status === 'auth_retrying' && this.#retryAt !== undefined) {
      return Math.max(1, Math.ceil((this.#retryAt - Date.now()) / 1000));
    }
    return this.#status === 'unauthenticated' ? UNAUTHENTICATED_RETRY_AFTER_S : 1;
  }

  onStatusChange(listener: (change: OAuthStatusChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async getAccessToken(): Promise<string> {
    this.#assertOpen();
    const tokens = this.#grant?.tokens;
    if (this.#status !== 'unauthenticated' && tokens && this.#fresh(tokens)) return tokens.accessToken;
    if (this.#status === 'auth_retrying' && this.#retryAt !== undefined && Date.now() < this.#retryAt) {
      // Between background retries: do not hammer a failing AS on every request.
      if (tokens && this.#fresh(tokens, 0)) return tokens.accessToken;
      throw (
        this.#lastError ??
        new OAuthClientError(OAuthClientErrorCode.AsUnavailable, 'The authorization server is unavailable', {
          retryable: true,
        })
      );
    }
    return this.#refresh(false, undefined);
  }

  async handleUnauthorized(rejectedToken?: string): Promise<string> {
    this.#assertOpen();
    return this.#refresh(true, rejectedToken ?? this.#grant?.tokens?.accessToken);
  }

  /** Stops background retries. The session must not be used afterwards. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#listeners.clear();
  }

  #assertOpen(): void {
    if (this.#closed) throw new TypeError(`the OAuth session of "${this.name}" is closed`);
  }

  #fresh(tokens: StoredTokens, skewMs = this.#skewMs): boolean {
    return tokens.expiresAt === undefined || tokens.expiresAt - skewMs > Date.now();
  }

  #refresh(force: boolean, rejectedToken: string | undefined): Promise<string> {
    // Single flight inside the process; the store lock covers other processes.
    this.#inflight ??= this.#doRefresh(force, rejectedToken).finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #doRefresh(force: boolean, rejectedToken: string | undefined): Promise<string> {
    const key = grantKey(this.name);
    try {
      const token = await this.#store.withLock(
        key,
        async () => {
          const grant = await loadGrant(this.#store, this.name);
          this.#grant = grant;
          if (!grant?.tokens) {
            throw new ReauthenticationRequiredError(
              this.name,
              OAuthClientErrorCode.Unauthenticated,
              `"${this.name}" is not logged in`,
            );
          }
          const current = grant.tokens;
          // Another instance (or an earlier call) may already have done the work.
          if (!force && this.#fresh(current)) return current.accessToken;
          if (
            force &&
            rejectedToken !== undefined &&
            current.accessToken !== rejectedToken &&
            this.#fresh(current, 0)
          ) {
            return current.accessToken;
          }
          try {
            const next = await this.#grantNewTokens(grant);
            this.#grant = next;
            await saveGrant(this.#store, next);
            return next.tokens!.accessToken;
          } catch (err) {
            const e = classifyGrantError(err, 'token refresh');
            if (!e.retryable) {
              // The grant is dead for every instance: drop the tokens, keep client and AS data for `login`.
              const dead: StoredGrant = { ...grant, tokens: undefined };
              this.#grant = dead;
              await saveGrant(this.#store, dead);
            }
            throw e;
          }
        },
        { timeoutMs: this.#lockTimeoutMs },
      );
      this.#backoff.reset();
      this.#retryAt = undefined;
      this.#setStatus('authenticated', undefined);
      return token;
    } catch (err) {
      const e = classifyGrantError(err, 'token refresh');
      if (e.retryable) {
        this.#scheduleRetry(e);
        const tokens = this.#grant?.tokens;
        // Proactive refresh failed but the token has not actually expired: keep using it.
        if (!force && tokens && this.#fresh(tokens, 0)) return tokens.accessToken;
        throw e;
      }
      const reauth =
        e instanceof ReauthenticationRequiredError
          ? e
          : new ReauthenticationRequiredError(
              this.name,
              e.code as OAuthClientErrorCode,
              isAssertionGrant(this.#grant)
                ? `Renewing the token of "${this.name}" failed: ${e.message}`
                : e.code === OAuthClientErrorCode.InvalidGrant
                  ? `The authorization server rejected the refresh token of "${this.name}" (invalid_grant)`
                  : `Refreshing the token of "${this.name}" failed: ${e.message}`,
              { cause: e, oauthError: e.oauthError, status: e.status },
            );
      this.#retryAt = undefined;
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#setStatus('unauthenticated', reauth);
      throw reauth;
    }
  }

  async #grantNewTokens(grant: StoredGrant): Promise<StoredGrant> {
    const config = await configurationFor(grant.authorizationServer, grant.client, {
      fetch: this.#fetch,
      timeoutMs: this.#requestTimeoutMs,
    });
    const dpop = await this.#dpopOptions(grant, config);
    // The non-interactive grants run again (the assertion grants re-reading their files) rather than refresh.
    const renewed =
      grant.grantType === 'jwt_bearer' || grant.grantType === 'id_jag'
        ? await this.#renewAssertionGrant(grant, config, dpop)
        : grant.grantType === 'client_credentials'
          ? await requestClientCredentials(config, grant.scopes, grant.resource, undefined, dpop)
          : undefined;
    if (renewed) {
      return {
        ...grant,
        resource: renewed.resource,
        tokens: toStoredTokens(renewed.response),
        grantedScopes: splitOr(renewed.response.scope, grant.grantedScopes),
      };
    }
    const refreshToken = grant.tokens?.refreshToken;
    if (!refreshToken) {
      throw new OAuthClientError(
        OAuthClientErrorCode.Unauthenticated,
        `The access token of "${grant.workload}" expired and the authorization server issued no refresh token`,
      );
    }
    let resource = grant.resource;
    let response: TokenEndpointResponse;
    try {
      response = await refreshTokenGrant(config, refreshToken, resource ? { resource } : undefined, dpop);
    } catch (err) {
      const e = classifyGrantError(err, 'token refresh');
      if (resource === undefined || e.oauthError !== 'invalid_target') throw e;
      resource = undefined; // one retry without the RFC 8707 parameter; remembered in the grant
      response = await refreshTokenGrant(config, refreshToken, undefined, dpop);
    }
    return {
      ...grant,
      resource,
      tokens: toStoredTokens(response, refreshToken),
      grantedScopes: splitOr(response.scope, grant.grantedScopes),
    };
  }

  #renewAssertionGrant(
    grant: StoredGrant,
    config: Awaited<ReturnType<typeof configurationFor>>,
    dpop: DPoPOptions | undefined,
  ): ReturnType<typeof requestJwtBearerFromFile> {
    if (grant.grantType === 'id_jag') {
      if (!grant.idJag)
        throw new OAuthClientError(
          OAuthClientErrorCode.Store,
          `The stored grant of "${grant.workload}" lacks its IdP settings`,
        );
      return requestIdJagAccessToken(
        config,
        grant.idJag,
        grant.scopes,
        grant.resource,
        {
          fetch: this.#fetch ?? fetch,
          timeoutMs: this.#requestTimeoutMs,
        },
        dpop,
      );
    }
    if (!grant.assertionFile)
      throw new OAuthClientError(
        OAuthClientErrorCode.Store,
        `The stored grant of "${grant.workload}" lacks its assertion file`,
      );
    return requestJwtBearerFromFile(
      config,
      grant.assertionFile,
      grant.scopes,
      grant.resource,
      undefined,
      dpop,
    );
  }

  #scheduleRetry(error: OAuthClientError): void {
    if (this.#closed) return;
    if (this.#timer) clearTimeout(this.#timer);
    const delay = this.#backoff.next();
    this.#retryAt = Date.now() + delay;
    this.#setStatus('auth_retrying', error);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#closed) return;
      this.#refresh(false, undefined).catch(() => {
        // The outcome is reported through the status; nothing awaits this promise.
      });
    }, delay);
    this.#timer.unref();
  }

  #setStatus(status: OAuthSessionStatus, error: OAuthClientError | undefined): void {
    const previous = this.#status;
    this.#lastError = error;
    if (previous === status && status !== 'auth_retrying') return;
    this.#status = status;
    const change: OAuthStatusChange = {
      status,
      previous,
      error,
      retryAt: status === 'auth_retrying' ? this.#retryAt : undefined,
    };
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch {
        // A listener's failure must not break token handling.
      }
    }
  }
}

/** Grants renewed by presenting an assertion file again (its message says what was rejected). */
function isAssertionGrant(grant: StoredGrant | undefined): boolean {
  return grant?.grantType === 'jwt_bearer' || grant?.grantType === 'id_jag';
}

function splitOr(scope: string | undefined, fallback: string[] | undefined): string[] | undefined {
  const list = scope?.split(/\s+/).filter((s) => s !== '');
  return list && list.length > 0 ? list : fallback;
}
