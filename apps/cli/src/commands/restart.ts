/** `bastion restart <name>`: stop if running, start again with the stored definition and tokens. */
import { type CommandLike, context, out } from './context.js';
import { startOrForeground } from './run.js';
import { stopWorkload } from './stop.js';

export async function restartCommand(
  name: string,
  opts: { foreground?: boolean; browser: boolean },
  cmd: CommandLike,
): Promise<void> {
  const ctx = context(cmd);
  const def = ctx.store.getDefinition(name);
  if (await stopWorkload(ctx.store, name)) out(`Stopped ${name}.`);
  if (def.auth.kind === 'oauth') {
    // Stored tokens are reused; a new login happens only when they cannot be refreshed.
    const { ensureLoggedIn } = await import('../auth/login.js');
    await ensureLoggedIn(def, ctx, { browser: opts.browser, loginTimeoutSeconds: 300 });
  }
  await startOrForeground(def, ctx, Boolean(opts.foreground), {
    browser: opts.browser,
    loginTimeoutSeconds: 300,
  });
}
