/**
 * RFC 7592 client registration management: forget a cached dynamic registration, deleting it at the
 * authorization server when it gave us the means (`registration_client_uri` +
 * `registration_access_token`). The cached registration is always removed locally.
 */
import { loadRegistration, registrationKey } from './credentials.js';
import { type FetchLike, httpRequest, networkError, readJsonObject } from './internal/http.js';
import type { TokenStore } from './store/types.js';

export interface ForgetRegistrationOptions {
  /** `fetch` for the DELETE. Default the global fetch. */
  fetch?: FetchLike | undefined;
  /** Timeout of the DELETE, in ms. Default 10000. */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** What happened at the authorization server. */
export type RegistrationDeletion =
  /** The AS confirmed the deletion (RFC 7592 §2.3: 204). */
  | 'deleted'
  /** The cached registration has no RFC 7592 management data (the AS did not offer it): only forgotten locally. */
  | 'not_supported'
  /** The AS answered 405 (deletion not supported) or another error, or could not be reached. */
  | 'failed'
  /** Nothing was cached for this issuer. */
  | 'none';

export interface ForgetRegistrationResult {
  /** A cached registration existed (it is gone now). */
  readonly hadRegistration: boolean;
  /** The client id of that registration (not a secret). */
  readonly clientId: string | undefined;
  readonly server: RegistrationDeletion;
  /** HTTP status of the DELETE, when one was answered. */
  readonly status?: number | undefined;
  /** Why `server` is `failed` (an OAuth error code, an HTTP status or a network error; never a secret). */
  readonly reason?: string | undefined;
}

/**
 * Forgets the cached dynamic client registration for `issuer`: sends the RFC 7592 DELETE (with the
 * stored registration access token) when the registration has management data, then always deletes
 * the cached entry. Never throws for an AS-side failure (the result says what happened); throws only
 * for bad arguments or an unreadable store.
 *
 * Registrations are cached per AS and shared by every workload of that AS: callers must make sure
 * no other workload still uses `clientId` (its refresh would fail with `invalid_client`).
 */
export async function forgetRegistration(
  store: TokenStore,
  issuer: string,
  options: ForgetRegistrationOptions = {},
): Promise<ForgetRegistrationResult> {
  if (typeof issuer !== 'string' || issuer === '') throw new TypeError('"issuer" must be a non-empty string');
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new TypeError('"timeoutMs" must be a positive number');
  const key = registrationKey(issuer);
  return store.withLock(key, async () => {
    const reg = await loadRegistration(store, issuer);
    if (!reg) {
      await store.delete(key);
      return { hadRegistration: false, clientId: undefined, server: 'none' as const };
    }
    try {
      if (!reg.registrationClientUri || !reg.registrationAccessToken) {
        return { hadRegistration: true, clientId: reg.clientId, server: 'not_supported' as const };
      }
      const what = `client registration deletion at ${new URL(reg.registrationClientUri).origin}`;
      let res: Response;
      try {
        res = await httpRequest(
          reg.registrationClientUri,
          {
            method: 'DELETE',
            headers: { authorization: `Bearer ${reg.registrationAccessToken}`, accept: 'application/json' },
          },
          { fetch: options.fetch ?? fetch, timeoutMs, signal: options.signal },
          what,
        );
      } catch (err) {
        return {
          hadRegistration: true,
          clientId: reg.clientId,
          server: 'failed' as const,
          reason: networkError(err, what, options).message,
        };
      }
      if (res.status === 204 || res.status === 200) {
        await res.body?.cancel().catch(() => {});
        return {
          hadRegistration: true,
          clientId: reg.clientId,
          server: 'deleted' as const,
          status: res.status,
        };
      }
      const doc = await readJsonObject(res).catch(() => undefined);
      const error = typeof doc?.['error'] === 'string' ? doc['error'] : undefined;
      return {
        hadRegistration: true,
        clientId: reg.clientId,
        server: 'failed' as const,
        status: res.status,
        reason:
          res.status === 405
            ? 'the authorization server does not support deleting registrations (HTTP 405)'
            : `HTTP ${res.status}${error ? ` (${error})` : ''}`,
      };
    } finally {
      await store.delete(key);
    }
  });
}
