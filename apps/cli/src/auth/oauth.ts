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
  ctx: { paths: BastionPaths; logger: CliLogger },
): Promise<ReloadableCredential> {
  const { OAuthSession } = await import('@bastion-mcp/auth/client');
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
    state: () => state,
    onStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    retryAfterSeconds: () => session.retryAfterSeconds(),
    async reload() {
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
