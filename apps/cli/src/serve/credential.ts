/**
 * The credential the local proxy presents to the remote, and the middleware that applies it.
 *
 * The middleware sits innermost (right before the forwarder), so only requests that passed local
 * authentication and policy make the proxy fetch or refresh a token. While no token is usable the
 * local client gets 503 + Retry-After — never 401, which would make MCP clients start an OAuth flow
 * against the local proxy. An upstream 401 triggers one reactive refresh and one retry.
 *
 * A DPoP-bound token (RFC 9449) goes as `Authorization: DPoP <token>` with a fresh proof for each
 * upstream request (its method and URL); the `DPoP-Nonce` the remote sends is remembered per origin,
 * and a 401 `use_dpop_nonce` is retried once with the new nonce (not counted as the refresh retry).
 */
import type { DPoPProver } from '@bastion-mcp/auth/client';
import {
  type Exchange,
  mapEndpointUrl,
  type Middleware,
  type Next,
  type ProxyResponse,
  ProxyHttpError,
  upstreamMessageUrl,
} from '@bastion-mcp/proxy-core';
import type { Transport } from '../workload/types.js';

export type CredentialStatus = 'running' | 'auth_retrying' | 'unauthenticated';

export interface CredentialState {
  readonly status: CredentialStatus;
  /** Why the credential is not usable (never contains a secret). */
  readonly reason?: string | undefined;
  /** Scopes the remote asked for (403 `insufficient_scope`) that the stored grant lacks. */
  readonly requiredScopes?: readonly string[] | undefined;
  /** The Bearer challenge of a 401 from a remote that was started without OAuth (no secret in it). */
  readonly authChallenge?: string | undefined;
}

export interface UpstreamCredential {
  /** The access token to send, or undefined when none is usable right now. */
  token(signal?: AbortSignal): Promise<string | undefined>;
  /**
   * The remote rejected `rejected` with a 401: refresh once. Resolves true when a different token is
   * now available (the request is retried once with it).
   */
  handleUnauthorized(rejected: string): Promise<boolean>;
  /**
   * The remote answered 403 with `wwwAuthenticate` (possibly `insufficient_scope`): step up when
   * possible. Resolves true when a new token with more scopes is available (the request is retried
   * once with it); false leaves the 403 to the client. Optional: static tokens cannot step up.
   */
  handleForbidden?(wwwAuthenticate: string): Promise<boolean>;
  /**
   * The DPoP prover when the current token is DPoP-bound (RFC 9449); undefined for a Bearer token.
   * Optional: static tokens are always Bearer. Throws when the stored key is unusable.
   */
  dpopProver?(): Promise<DPoPProver | undefined>;
  state(): CredentialState;
  /** Subscribe to state changes; returns the unsubscribe function. */
  onStateChange(listener: (state: CredentialState) => void): () => void;
  /** Seconds a local client should wait before retrying while no token is usable. */
  retryAfterSeconds(): number;
  close(): Promise<void>;
}

const TOKEN_UNAVAILABLE = 'ERR_BASTION_CLI_UPSTREAM_TOKEN_UNAVAILABLE';

/** Discard a response that will not be returned (before retrying the request). */
export async function drainResponse(res: ProxyResponse): Promise<void> {
  const body = res.body;
  try {
    if (body.type === 'stream') {
      // Destroying an undici body emits an abort 'error'; without a listener it would crash the process.
      body.stream.on('error', () => {});
      body.stream.destroy();
    } else if (body.type === 'sse') await body.events[Symbol.asyncIterator]().return?.();
  } catch {
    // best effort: the response is discarded
  }
}

/** Where the forwarder sends requests: the DPoP proof names this URL (`htu`). */
export interface UpstreamTarget {
  remoteUrl: string;
  transport: Transport;
}

/** The upstream URL of this request as the forwarder maps it, without query (a DPoP `htu` carries none). */
function upstreamUrlOf(exchange: Exchange, target: UpstreamTarget): URL {
  const remote = new URL(target.remoteUrl);
  const url =
    (exchange.route === 'sse-message'
      ? upstreamMessageUrl(remote, target.transport === 'sse' ? '/sse' : '/mcp', exchange.request.path, '')
      : undefined) ?? mapEndpointUrl(remote, '');
  url.search = '';
  return url;
}

type Send = (token: string) => Promise<ProxyResponse>;

/**
 * Sends the request with `token`: Bearer, or DPoP with a fresh proof (a new `jti` on every call),
 * retried once when the remote asks for a (new) nonce.
 */
function createSender(
  credential: UpstreamCredential,
  exchange: Exchange,
  next: Next,
  target: UpstreamTarget | undefined,
  unavailable: () => ProxyHttpError,
): Send {
  const headers = exchange.upstreamHeaders;
  // Only a DPoP-bound token needs the upstream URL: computed on first use, once per request.
  let upstreamUrl: URL | undefined;
  const urlOf = (): URL | undefined => {
    if (target && !upstreamUrl) upstreamUrl = upstreamUrlOf(exchange, target);
    return upstreamUrl;
  };
  const present = async (token: string): Promise<DPoPProver | undefined> => {
    let prover: DPoPProver | undefined;
    try {
      prover = await credential.dpopProver?.();
    } catch (e) {
      exchange.log.warn(
        { event: 'upstream_dpop_key_unusable', code: (e as { code?: string }).code },
        (e as Error).message,
      );
      throw unavailable();
    }
    if (!prover) {
      headers.authorization = `Bearer ${token}`;
      delete headers.dpop;
      return undefined;
    }
    const url = urlOf();
    if (!url) throw new TypeError('a DPoP-bound credential needs the upstream target');
    headers.authorization = `DPoP ${token}`;
    headers.dpop = await prover.proof({
      method: exchange.request.method,
      url,
      accessToken: token,
    });
    return prover;
  };
  const remember = (prover: DPoPProver, res: ProxyResponse, url: URL): void => {
    const nonce = res.headers['dpop-nonce'];
    prover.rememberNonce(url, Array.isArray(nonce) ? nonce.at(-1) : nonce);
  };
  return async (token) => {
    const prover = await present(token);
    const res = await next();
    const url = prover && urlOf();
    if (!prover || !url) return res;
    const before = prover.nonceFor(url);
    remember(prover, res, url);
    if (res.status !== 401) return res;
    const { isUseDPoPNonceChallenge } = await import('@bastion-mcp/auth/client');
    const after = prover.nonceFor(url);
    // Only a nonce we did not send already is worth a retry (no loop on a remote that keeps asking).
    if (!isUseDPoPNonceChallenge(res.headers['www-authenticate']) || !after || after === before) return res;
    await drainResponse(res);
    await present(token);
    exchange.log.debug({ event: 'upstream_dpop_nonce_retry' }, 'Retried the request with the DPoP nonce');
    const retried = await next();
    remember(prover, retried, url);
    return retried;
  };
}

/** One step-up login per request at most: the retried request's answer goes back as it is. */
async function stepUp(
  credential: UpstreamCredential,
  exchange: Exchange,
  send: Send,
  res: ProxyResponse,
  token: string,
): Promise<ProxyResponse> {
  const header = res.headers['www-authenticate'];
  const challenge = Array.isArray(header) ? header.join(', ') : header;
  if (!challenge || !/insufficient_scope/i.test(challenge)) return res;
  const stepped = await credential.handleForbidden?.(challenge).catch(() => false);
  if (!stepped) return res;
  const fresh = await credential.token(exchange.signal);
  if (!fresh || fresh === token) return res;
  await drainResponse(res);
  exchange.log.info({ event: 'upstream_scope_step_up' }, 'Retried the request after a step-up login');
  return send(fresh);
}

/**
 * Middleware that sets `Authorization: Bearer <token>` (or `DPoP <token>` + a `DPoP` proof) on the
 * upstream request. `target` is required for credentials that may be DPoP-bound.
 */
export function createUpstreamCredentialMiddleware(
  credential: UpstreamCredential,
  target?: UpstreamTarget,
): Middleware {
  const unavailable = () => {
    const st = credential.state();
    return new ProxyHttpError({
      status: 503,
      rpcCode: -32000,
      publicMessage:
        st.status === 'unauthenticated'
          ? 'The proxy is not signed in to the remote server; run `bastion login <name>`'
          : 'Token temporarily unavailable; retry later',
      code: TOKEN_UNAVAILABLE,
      headers: { 'retry-after': String(credential.retryAfterSeconds()) },
    });
  };
  return {
    name: 'upstream-oauth',
    async handle(exchange: Exchange, next: Next): Promise<ProxyResponse> {
      const token = await credential.token(exchange.signal);
      if (!token) throw unavailable();
      const send = createSender(credential, exchange, next, target, unavailable);
      const res = await send(token);
      if (res.status === 403) return stepUp(credential, exchange, send, res, token);
      if (res.status !== 401) return res;
      const refreshed = await credential.handleUnauthorized(token).catch(() => false);
      if (!refreshed) return res;
      const fresh = await credential.token(exchange.signal);
      if (!fresh || fresh === token) return res;
      await drainResponse(res);
      exchange.log.info(
        { event: 'upstream_token_refreshed_after_401' },
        'Retried the request with a refreshed token',
      );
      return send(fresh);
    },
  };
}
