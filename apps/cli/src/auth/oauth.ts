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
  ctx: { paths: BastionPaths; logger: CliLogger; stepUpLogin?: StepUpLogin | undefined },
): Promise<ReloadableCredential> {
  const { OAuthSession, stepUpScopes } = await import('@bastion-mcp/auth/client');
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
