/** `bastion list`: workloads with status and reason. */
import { stdoutColors, type Palette } from '../ui/color.js';
import { renderTable } from '../ui/table.js';
import type { WorkloadStatus, WorkloadView } from '../workload/types.js';
import { type CommandLike, context, out } from './context.js';

/** Shown without --all: everything that has a process (and `unauthenticated`, which needs the user). */
const DEFAULT_VISIBLE: ReadonlySet<WorkloadStatus> = new Set([
  'starting',
  'running',
  'auth_retrying',
  'unauthenticated',
]);

export function colorStatus(status: WorkloadStatus, c: Palette): string {
  switch (status) {
    case 'running':
      return c.green(status);
    case 'auth_retrying':
    case 'starting':
    case 'unauthenticated':
      return c.yellow(status);
    case 'error':
      return c.red(status);
    default:
      return c.dim(status);
  }
}

export function viewJson(v: WorkloadView) {
  return {
    name: v.name,
    status: v.status,
    reason: v.reason ?? null,
    url: v.url,
    remoteUrl: v.remoteUrl,
    remote: true,
    transport: v.transport,
    port: v.port,
    pid: v.pid ?? null,
    auth: v.auth,
    startedAt: v.startedAt ?? null,
    createdAt: v.createdAt,
    logFile: v.logFile,
  };
}

export async function listCommand(opts: { all?: boolean; json?: boolean }, cmd: CommandLike): Promise<void> {
  const { store } = context(cmd);
  const views = store.names().map((n) => store.view(n));
  const shown = opts.all ? views : views.filter((v) => DEFAULT_VISIBLE.has(v.status));
  if (opts.json) {
    out(JSON.stringify(shown.map(viewJson), null, 2));
    return;
  }
  if (shown.length === 0) {
    const hidden = views.length - shown.length;
    out(
      hidden > 0
        ? `No running workloads (${hidden} stopped or failed: \`bastion list --all\`).`
        : 'No workloads yet. Start one with `bastion run <url>`.',
    );
    return;
  }
  const c = stdoutColors();
  out(
    renderTable(
      ['NAME', 'STATUS', 'URL', 'REMOTE', 'REASON'],
      shown.map((v) => [v.name, colorStatus(v.status, c), v.url, v.remoteUrl, v.reason ?? '']),
    ),
  );
}
