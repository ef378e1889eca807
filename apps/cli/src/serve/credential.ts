/**
 * The credential the local proxy presents to the remote, and the middleware that applies it.
 *
 * The middleware sits innermost (right before the forwarder), so only requests that passed local
 * authentication and policy make the proxy fetch or refresh a token. While no token is usable the
 * local client gets 503 + Retry-After — never 401, which would make MCP clients start an OAuth flow
 * against the local proxy. An upstream 401 triggers one reactive refresh and one retry.
 */
import {
  type Exchange,
  type Middleware,
  type Next,
  type ProxyResponse,
  ProxyHttpError,
} from '@bastion-mcp/proxy-core';

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

/** One step-up login per request at most: the retried request's answer goes back as it is. */
async function stepUp(
  credential: UpstreamCredential,
  exchange: Exchange,
  next: Next,
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
  exchange.upstreamHeaders.authorization = `Bearer ${fresh}`;
  exchange.log.info({ event: 'upstream_scope_step_up' }, 'Retried the request after a step-up login');
  return next();
}

/** Middleware that sets `Authorization: Bearer <token>` on the upstream request. */
export function createUpstreamCredentialMiddleware(credential: UpstreamCredential): Middleware {
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
      exchange.upstreamHeaders.authorization = `Bearer ${token}`;
      const res = await next();
      if (res.status === 403) return stepUp(credential, exchange, next, res, token);
      if (res.status !== 401) return res;
      const refreshed = await credential.handleUnauthorized(token).catch(() => false);
      if (!refreshed) return res;
      const fresh = await credential.token(exchange.signal);
      if (!fresh || fresh === token) return res;
      await drainResponse(res);
      exchange.upstreamHeaders.authorization = `Bearer ${fresh}`;
      exchange.log.info(
        { event: 'upstream_token_refreshed_after_401' },
        'Retried the request with a refreshed token',
      );
      return next();
    },
  };
}
