/**
 * The OAuth credential of a running proxy: the auth client's `OAuthSession` (silent and reactive
 * refresh, rotation, backoff, cross-process lock) mapped onto workload statuses.
 */
import type { OAuthSession, OAuthStatusChange } from '@bastion-mcp/auth/client';
import type { BastionPaths } from '../paths.js';
import type { CredentialState, UpstreamCredential } from '../serve/credential.js';
import type { CliLogger } from '../serve/logger.js';
import type { WorkloadDefinition } from '../workload/types.js';
import { openTokenStore } from './store.js';

/**
 * Log in again with `scopes` (the union of the granted and the required ones), from the remote's
 * `insufficient_scope` challenge. Given only when a user is present (`--stdio`, `--foreground`).
 */
export type StepUpLogin = (scopes: string[], wwwAuthenticate: string) => Promise<void>;

export interface ReloadableCredential extends UpstreamCredential {
  /** Re-open the session from the store (after `bastion login` / `logout` in another process). */
  reload(): Promise<void>;
}

function stateOf(session: OAuthSession, name: string, change?: OAuthStatusChange): CredentialState {
  const status = change?.status ?? session.status;
  const error = change?.error ?? session.lastError;
  if (status === 'authenticated') return { status: 'running' };
  if (status === 'auth_retrying') {
    return {
      status: 'auth_retrying',
      reason: `token refresh failing, retrying: ${error?.message ?? 'authorization server unavailable'}`,
    };
  }
  const why = error?.message ?? `"${name}" is not logged in`;
  return {
    status: 'unauthenticated',
    reason: why.includes('bastion login') ? why : `${why}; run \`bastion login ${name}\``,
  };
}

export async function createOAuthCredential(
  def: WorkloadDefinition,
  ctx: {
    paths: BastionPaths;
    logger: CliLogger;
    stepUpLogin?: StepUpLogin | undefined;
    /**
     * A user is present (`--stdio`, `--foreground`): when the remote moved to another authorization
     * server, log in there inline. Absent (detached): turn `unauthenticated` for `bastion login`.
     */
    interactive?: { browser: boolean; loginTimeoutSeconds: number } | undefined;
  },
): Promise<ReloadableCredential> {
  const { OAuthSession, stepUpScopes, checkAuthorizationServer, discardTokens } = await import(
    '@bastion-mcp/auth/client'
  );
  // Scope sets a step-up already asked for: when the AS grants too few, asking again would loop.
  const attempted = new Set<string>();
  let stepping: Promise<boolean> | undefined;
  const store = await openTokenStore(ctx.paths);
  const listeners = new Set<(s: CredentialState) => void>();
  let state: CredentialState;
  let session: OAuthSession;
  let unsubscribe: () => void = () => {};
  const emit = (next: CredentialState) => {
    if (next.status === state.status && next.reason === state.reason) return;
    state = next;
    for (const l of listeners) l(state);
  };
  const attach = async () => {
    unsubscribe();
    session?.close();
    session = await OAuthSession.open({ name: def.name, store });
    unsubscribe = session.onStatusChange((change) => emit(stateOf(session, def.name, change)));
  };
  await attach();
  state = stateOf(session!, def.name);

  // SEP-2352: a 401 may mean the remote moved to another authorization server. Its client, secret
  // and tokens belong to the old one: re-discover, drop the tokens, and log in at the new AS (which
  // gets its own registration: they are cached per issuer). Concurrent 401s share one check.
  let moving: Promise<boolean | undefined> | undefined;
  /** Tokens obtained by a migration login: if the remote rejects one, do not log in again (no loop). */
  const migratedTokens = new Set<string>();
  const followMove = async (rejected: string): Promise<boolean | undefined> => {
    const spec = def.auth.kind === 'oauth' ? def.auth : undefined;
    let check: Awaited<ReturnType<typeof checkAuthorizationServer>>;
    try {
      check = await checkAuthorizationServer(store, def.name, {
        allowIssuerMismatch: spec?.allowIssuerMismatch,
      });
    } catch (e) {
      ctx.logger.warn(
        { event: 'upstream_rediscovery_failed', code: (e as { code?: string }).code },
        `Re-discovering the authorization server after a 401 failed: ${(e as Error).message}`,
      );
      return undefined; // the refresh below decides
    }
    if (!check.changed) return undefined;
    ctx.logger.warn(
      {
        event: 'upstream_authorization_server_changed',
        previous: check.previousIssuer,
        issuer: check.issuer,
      },
      `The remote now uses the authorization server ${check.issuer} (was ${check.previousIssuer})`,
    );
    await discardTokens(store, def.name);
    await attach();
    const relogin = `the remote now uses the authorization server ${check.issuer} (was ${check.previousIssuer})`;
    // Where `bastion login` discovers from when the remote's probe is open (it protects some methods only).
    const where = check.auth.resourceMetadataUrl;
    const authChallenge = where ? `Bearer resource_metadata="${where}"` : 'Bearer';
    const unauthenticated = (reason: string) => {
      emit({ status: 'unauthenticated', reason, authChallenge });
      return false;
    };
    if (spec?.clientId || check.previousClientSource === 'static') {
      // A pre-registered client belongs to the old AS: never present it to the new one.
      return unauthenticated(
        `${relogin}; the pre-registered client id belongs to ${check.previousIssuer}: re-create the workload with a client id registered at ${check.issuer} (\`bastion rm ${def.name}\`, then \`bastion run ${def.remoteUrl} --client-id …\`)`,
      );
    }
    if (!ctx.interactive || !spec || migratedTokens.has(rejected)) {
      return unauthenticated(`${relogin}: run \`bastion login ${def.name}\``);
    }
    const { performLogin } = await import('./login.js');
    try {
      await performLogin(
        def,
        { ...spec, scopes: spec.scopes ?? check.previousScopes },
        check.auth,
        { paths: ctx.paths },
        ctx.interactive,
      );
    } catch (e) {
      ctx.logger.warn(
        { event: 'upstream_migration_login_failed', code: (e as { code?: string }).code },
        (e as Error).message,
      );
      return unauthenticated(`${relogin}; the login there failed: run \`bastion login ${def.name}\``);
    }
    await attach();
    const fresh = await session.getAccessToken().catch(() => undefined);
    if (fresh) migratedTokens.add(fresh);
    emit(stateOf(session, def.name));
    return fresh !== undefined;
  };

  return {
    async token() {
      try {
        return await session.getAccessToken();
      } catch (e) {
        ctx.logger.warn(
          { event: 'upstream_token_unavailable', code: (e as { code?: string }).code },
          (e as Error).message,
        );
        emit(stateOf(session, def.name));
        return undefined;
      }
    },
    async handleUnauthorized(rejected) {
      moving ??= followMove(rejected).finally(() => {
        moving = undefined;
      });
      const moved = await moving;
      if (moved !== undefined) return moved;
      try {
        const fresh = await session.handleUnauthorized(rejected);
        return fresh !== rejected;
      } catch (e) {
        ctx.logger.warn(
          { event: 'upstream_401_refresh_failed', code: (e as { code?: string }).code },
          (e as Error).message,
        );
        emit(stateOf(session, def.name));
        return false;
      }
    },
    handleForbidden(wwwAuthenticate) {
      const union = stepUpScopes(
        session.scopes ?? (def.auth.kind === 'oauth' ? def.auth.scopes : undefined),
        wwwAuthenticate,
      );
      if (!union) return Promise.resolve(false);
      const key = [...union].sort().join(' ');
      if (attempted.has(key)) {
        ctx.logger.warn(
          { event: 'upstream_scope_step_up_exhausted', scopes: union },
          `The remote still requires scope(s) ${union.join(' ')} after a step-up login; not asking again`,
        );
        return Promise.resolve(false);
      }
      // Concurrent 403s share one step-up.
      stepping ??= (async () => {
        const login = ctx.stepUpLogin;
        const missing = union.filter((s) => !(session.scopes ?? []).includes(s));
        if (!login) {
          // Detached: no login here, so nothing to bound; the status says what to run.
          emit({
            status: 'unauthenticated',
            reason: `the remote requires scope(s) ${missing.join(' ')}: run \`bastion login ${def.name}\``,
            requiredScopes: union,
          });
          return false;
        }
        attempted.add(key);
        ctx.logger.info(
          { event: 'upstream_scope_step_up', scopes: union },
          `The remote requires scope(s) ${missing.join(' ')}; logging in again`,
        );
        try {
          await login(union, wwwAuthenticate);
        } catch (e) {
          ctx.logger.warn(
            { event: 'upstream_scope_step_up_failed', code: (e as { code?: string }).code },
            (e as Error).message,
          );
          return false;
        }
        await attach();
        await session.getAccessToken().catch(() => {});
        emit(stateOf(session, def.name));
        return true;
      })().finally(() => {
        stepping = undefined;
      });
      return stepping;
    },
    state: () => state,
    onStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    retryAfterSeconds: () => session.retryAfterSeconds(),
    dpopProver: () => session.dpopProver(),
    async reload() {
      attempted.clear();
      await attach();
      await session.getAccessToken().catch(() => {});
      emit(stateOf(session, def.name));
    },
    async close() {
      unsubscribe();
      session.close();
      listeners.clear();
    },
  };
}
