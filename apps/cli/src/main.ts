#!/usr/bin/env node
/**
 * `bastion` entry point: parse the command line, run the command, turn every failure into one line
 * on stderr and a documented exit code.
 */
import { type Command, CommanderError } from 'commander';
import { CliError, ExitCode, formatErrorLine } from './errors.js';
import { buildProgram } from './program.js';

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const configure = (cmd: Command) => {
    cmd.exitOverride();
    cmd.configureOutput({
      outputError: (str, write) => {
        const line = str
          .replace(/^error:\s*/i, '')
          .replace(/\s*\n\s*/g, ' ')
          .trim();
        write(`bastion: ${line}. Run \`bastion help\` or add --help for usage\n`);
      },
    });
    for (const sub of cmd.commands) configure(sub);
  };
  configure(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.Ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return ExitCode.Ok; // --help, --version
      return ExitCode.Usage;
    }
    process.stderr.write(`bastion: ${formatErrorLine(err)}\n`);
    if (!(err instanceof CliError) && process.env.BASTION_DEBUG) {
      process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    }
    return err instanceof CliError ? err.exitCode : exitCodeOf(err);
  }
}

/** Exit codes for library errors that reach the top level. */
function exitCodeOf(err: unknown): number {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string') {
    if (code === 'ERR_BASTION_RUNCONFIG_INVALID') return ExitCode.Usage;
    if (code.startsWith('ERR_BASTION_OAUTH_NETWORK') || code === 'ERR_BASTION_OAUTH_AS_UNAVAILABLE')
      return ExitCode.Network;
    if (code.startsWith('ERR_BASTION_OAUTH')) return ExitCode.Auth;
  }
  return ExitCode.Error;
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
