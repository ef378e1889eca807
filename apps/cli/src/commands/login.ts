/** `bastion login <name>` / `bastion logout <name>`. */
import { isWorkloadProcess, signalProcess } from '../workload/process.js';
import type { WorkloadStore } from '../workload/store.js';
import type { DPoPFlag, WorkloadDefinition } from '../workload/types.js';
import { type CommandLike, context, err, out } from './context.js';

/** Ask a running proxy to re-read its tokens (SIGUSR2). */
function notifyRunning(store: WorkloadStore, name: string): boolean {
  const st = store.readState(name);
  if (st?.pid !== undefined && isWorkloadProcess(st.pid, name)) return signalProcess(st.pid, 'SIGUSR2');
  return false;
}

export async function loginCommand(
  name: string,
  opts: { browser: boolean; deviceCode?: boolean; dpop?: DPoPFlag },
  cmd: CommandLike,
): Promise<void> {
  const ctx = context(cmd);
  const stored = ctx.store.getDefinition(name);
  const def = withDPoP(withRequiredScopes(stored, ctx.store.readState(name)?.requiredScopes), opts.dpop);
  const { freshLogin } = await import('../auth/login.js');
  const auth = await freshLogin(def, ctx, {
    browser: opts.browser,
    loginTimeoutSeconds: 300,
    deviceCode: opts.deviceCode,
  });
  if (auth.kind !== stored.auth.kind) {
    ctx.store.writeDefinition({ ...def, auth });
    if (notifyRunning(ctx.store, name))
      err(`Run \`bastion restart ${name}\` so the running proxy uses the new login.`);
  } else {
    if (def !== stored) ctx.store.writeDefinition({ ...stored, auth });
    if (notifyRunning(ctx.store, name)) err(`The running proxy of ${name} picked up the new login.`);
  }
  out(`Logged in to ${name}.`);
}

/** `bastion login --dpop <mode>`: this login and later ones (the mode is kept in the definition). */
function withDPoP(def: WorkloadDefinition, dpop: DPoPFlag | undefined): WorkloadDefinition {
  if (def.auth.kind !== 'oauth' || dpop === undefined || def.auth.dpop === dpop) return def;
  return { ...def, auth: { ...def.auth, dpop } };
}

/**
 * The remote asked a detached workload for more scopes (403 `insufficient_scope`, recorded in its
 * state): the login requests the union of the configured and the required scopes, and keeps it.
 */
function withRequiredScopes(
  def: WorkloadDefinition,
  required: readonly string[] | undefined,
): WorkloadDefinition {
  if (def.auth.kind !== 'oauth' || !required || required.length === 0) return def;
  const have = def.auth.scopes ?? [];
  if (required.every((s) => have.includes(s))) return def;
  return { ...def, auth: { ...def.auth, scopes: [...new Set([...have, ...required])] } };
}

export async function logoutCommand(name: string, _opts: unknown, cmd: CommandLike): Promise<void> {
  const ctx = context(cmd);
  const def = ctx.store.getDefinition(name);
  if (def.auth.kind !== 'oauth') {
    out(`${name} does not use OAuth; nothing to forget.`);
    return;
  }
  const { forgetTokens } = await import('../auth/login.js');
  const had = await forgetTokens(def, ctx, { purgeRegistration: false });
  notifyRunning(ctx.store, name);
  out(had ? `Logged out of ${name} (tokens deleted).` : `${name} had no stored tokens.`);
}
