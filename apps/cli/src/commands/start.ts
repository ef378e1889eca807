/** Start a workload detached and report the outcome. */
import { CliError, CliErrorCode, ExitCode } from '../errors.js';
import { stdoutColors } from '../ui/color.js';
import { launchDetached } from '../workload/launch.js';
import type { WorkloadDefinition, WorkloadState } from '../workload/types.js';
import { type Context, err, out } from './context.js';

export async function startWorkload(def: WorkloadDefinition, ctx: Context): Promise<WorkloadState> {
  const state = await launchDetached(ctx.store, def, { logLevel: ctx.globals.logLevel });
  if (state.status === 'error') {
    throw new CliError(
      CliErrorCode.StartFailed,
      `workload "${def.name}" failed to start: ${state.reason ?? 'unknown error'}`,
      {
        fix: `See \`bastion logs ${def.name}\``,
        exitCode: /port .* in use/.test(state.reason ?? '') ? ExitCode.Conflict : ExitCode.Error,
      },
    );
  }
  return state;
}

export function printStarted(def: WorkloadDefinition, state: WorkloadState): void {
  const c = stdoutColors();
  const url = state.url ?? `http://127.0.0.1:${def.port}/mcp`;
  const mark = state.status === 'running' ? c.green('✔') : c.yellow('!');
  out(`${mark} ${c.bold(def.name)} is ${state.status} at ${c.cyan(url)}`);
  if (state.reason) out(`  ${c.yellow(state.reason)}`);
  out('');
  out('  Add it to an MCP client:');
  out(`    bastion client setup claude-code ${def.name}     (or cursor, vscode, claude-desktop)`);
  out(`    or point any client at ${url}`);
  out(`  Logs: bastion logs ${def.name}    Stop: bastion stop ${def.name}`);
  if (state.status === 'unauthenticated') err(`Run \`bastion login ${def.name}\` to sign in.`);
}
