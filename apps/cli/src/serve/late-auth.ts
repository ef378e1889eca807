/**
 * A remote that start-up detection found open (no 401 on the probe) may still protect some methods:
 * an upstream 401 with a Bearer challenge then means "log in". Interactive (`--stdio`,
 * `--foreground`): discover from that challenge, log in once, switch to the OAuth credential, retry
 * the request once. Detached: pass the 401 through, turn the workload `unauthenticated` with the
 * fix, and record the challenge so `bastion login <name>` can log in without a 401 of its own.
 */
import type { Exchange, Middleware, Next, ProxyResponse } from '@bastion-mcp/proxy-core';
import type { BastionPaths } from '../paths.js';
import type { WorkloadDefinition } from '../workload/types.js';
import {
  type CredentialState,
  createUpstreamCredentialMiddleware,
  drainResponse,
  type UpstreamCredential,
} from './credential.js';
import type { CliLogger } from './logger.js';

export interface LateAuth {
  readonly middleware: Middleware;
  state(): CredentialState;
  onStateChange(listener: (state: CredentialState) => void): () => void;
  close(): Promise<void>;
}

export interface LateAuthOptions {
  paths: BastionPaths;
  logger: CliLogger;
  interactive?: { browser: boolean; loginTimeoutSeconds: number } | undefined;
  /** Persist the OAuth spec after an interactive login (restarts then use it). */
  saveDefinition?: ((def: WorkloadDefinition) => void) | undefined;
}

function challengeOf(res: ProxyResponse): string | undefined {
  const h = res.headers['www-authenticate'];
  const value = Array.isArray(h) ? h.join(', ') : h;
  return value && /^\s*bearer\b/i.test(value) ? value : undefined;
}

export function createLateAuth(def: WorkloadDefinition, options: LateAuthOptions): LateAuth {
  const listeners = new Set<(s: CredentialState) => void>();
  let state: CredentialState = { status: 'running' };
  const emit = (next: CredentialState) => {
    state = next;
    for (const l of listeners) l(next);
  };
  let inner: { middleware: Middleware; credential: UpstreamCredential } | undefined;
  const current = () => inner; // read through a function: set by the login in another closure
  let attempted = false; // one login per process: a refused or failed login is not prompted again
  let loggingIn: Promise<boolean> | undefined;

  const login = async (challenge: string): Promise<boolean> => {
    const interactive = options.interactive;
    if (!interactive) return false;
    const { createOAuthCredential } = await import('../auth/oauth.js');
    const { createStepUpLogin, loginAfterChallenge } = await import('../auth/login.js');
    const oauthDef: WorkloadDefinition = {
      ...def,
      auth: { kind: 'oauth', grant: 'authorization_code', resourceParam: true },
    };
    try {
      await loginAfterChallenge(oauthDef, challenge, { paths: options.paths }, interactive);
    } catch (e) {
      options.logger.warn(
        { event: 'upstream_late_login_failed', code: (e as { code?: string }).code },
        (e as Error).message,
      );
      return false;
    }
    options.saveDefinition?.(oauthDef);
    const credential = await createOAuthCredential(oauthDef, {
      paths: options.paths,
      logger: options.logger,
      stepUpLogin: createStepUpLogin(oauthDef, { paths: options.paths }, interactive),
      // A later move of the remote to another authorization server logs in there too (SEP-2352).
      interactive,
    });
    credential.onStateChange(emit);
    inner = {
      middleware: createUpstreamCredentialMiddleware(credential, {
        remoteUrl: def.remoteUrl,
        transport: def.transport,
      }),
      credential,
    };
    emit(credential.state());
    return true;
  };

  const middleware: Middleware = {
    name: 'upstream-late-oauth',
    async handle(exchange: Exchange, next: Next): Promise<ProxyResponse> {
      if (inner) return inner.middleware.handle(exchange, next);
      const res = await next();
      if (res.status !== 401) return res;
      const challenge = challengeOf(res);
      if (!challenge) return res;
      if (!options.interactive) {
        emit({
          status: 'unauthenticated',
          reason: `the remote requires authentication for some requests: run \`bastion login ${def.name}\``,
          authChallenge: challenge,
        });
        return res;
      }
      if (!inner) {
        if (attempted && !loggingIn) return res;
        attempted = true;
        loggingIn ??= login(challenge).finally(() => {
          loggingIn = undefined;
        });
        if (!(await loggingIn)) return res;
      }
      const loggedIn = current();
      if (!loggedIn) return res;
      // The retry goes straight to the remote: no second login (or step-up) for this request.
      const token = await loggedIn.credential.token(exchange.signal);
      if (!token) return res;
      await drainResponse(res);
      exchange.upstreamHeaders.authorization = `Bearer ${token}`;
      exchange.log.info({ event: 'upstream_late_login' }, 'Retrying the request after logging in');
      return next();
    },
  };
  return {
    middleware,
    state: () => state,
    onStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      listeners.clear();
      await inner?.credential.close();
    },
  };
}
