/** `bastion rm <name...>`: stop, delete tokens (and the registration on request), client entries, state. */
import { removeAllClientEntries } from '../clients/registry.js';
import { type CommandLike, context, err, out } from './context.js';
import { stopWorkload } from './stop.js';

export async function rmCommand(
  names: string[],
  opts: { purgeRegistration?: boolean },
  cmd: CommandLike,
): Promise<void> {
  const ctx = context(cmd);
  for (const name of names) {
    const def = ctx.store.getDefinition(name);
    await stopWorkload(ctx.store, name);
    if (def.auth.kind === 'oauth') {
      const { forgetTokens } = await import('../auth/login.js');
      await forgetTokens(def, ctx, { purgeRegistration: Boolean(opts.purgeRegistration) });
    }
    for (const removed of removeAllClientEntries(ctx.paths, name)) {
      err(`Removed ${name} from ${removed.client} (${removed.path}).`);
    }
    ctx.store.remove(name);
    out(`Removed ${name}.`);
  }
}
