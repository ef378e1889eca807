/** `bastion status <name>`. */
import { formatLoginSummary, loginSummary } from '../auth/grant-summary.js';
import { stdoutColors } from '../ui/color.js';
import { type CommandLike, context, out } from './context.js';
import { colorStatus, viewJson } from './list.js';

function uptime(startedAt: string | undefined): string | undefined {
  if (!startedAt) return undefined;
  const s = Math.max(0, Math.round((Date.now() - Date.parse(startedAt)) / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${m}m` : m > 0 ? `${m}m${s % 60}s` : `${s}s`;
}

export async function statusCommand(name: string, opts: { json?: boolean }, cmd: CommandLike): Promise<void> {
  const { store, paths } = context(cmd);
  const v = store.view(name);
  const login = await loginSummary(paths, name);
  if (opts.json) {
    out(JSON.stringify({ ...viewJson(v), login: login ?? null }, null, 2));
    return;
  }
  const c = stdoutColors();
  const rows: [string, string | undefined][] = [
    ['Name', v.name],
    ['Status', colorStatus(v.status, c)],
    ['Reason', v.reason],
    ['URL', v.url],
    ['Remote', v.remoteUrl],
    ['Transport', v.transport],
    ['Auth', v.auth],
    ['Login', login && formatLoginSummary(login)],
    ['PID', v.pid?.toString()],
    ['Uptime', uptime(v.startedAt)],
    ['Log', v.logFile],
  ];
  for (const [k, val] of rows) if (val) out(`${`${k}:`.padEnd(11)}${val}`);
}
