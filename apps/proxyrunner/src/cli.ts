/** Command-line parsing (commander). Flags win over environment variables. */
import { Command, CommanderError, Option } from 'commander';
import { LOG_LEVELS, type LogLevel } from './logger.js';

export interface CliOptions {
  /** RunConfig path: `--config`, else `BASTION_RUNCONFIG`. */
  readonly config: string | undefined;
  readonly logLevel: LogLevel;
  /** Validate the RunConfig and resolve its secrets, then exit without serving. */
  readonly check: boolean;
}

export type ParseResult =
  | { kind: 'run'; options: CliOptions }
  | { kind: 'exit'; code: number; output: string; error: boolean };

export function parseCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  version: string,
): ParseResult {
  let output = '';
  let errorOutput = '';
  const program = new Command()
    .name('bastion-proxyrunner')
    .description(
      'Run one Bastion proxy from a RunConfig file: the canonical middleware chain as a stateless service.',
    )
    .version(version, '-v, --version')
    .option('-c, --config <file>', 'RunConfig file (JSON or YAML); default $BASTION_RUNCONFIG')
    .addOption(
      new Option('--log-level <level>', 'log level; default $BASTION_LOG_LEVEL or "info"').choices(
        LOG_LEVELS as unknown as string[],
      ),
    )
    .option('--check', 'validate the RunConfig and its secrets, then exit (0 when valid)', false)
    .addHelpText(
      'after',
      '\nExit codes: 0 clean stop or valid --check, 1 runtime failure, 2 configuration error.\n' +
        'Secrets are read from the environment variables (or files) the RunConfig names.',
    )
    .exitOverride()
    .configureOutput({
      writeOut: (s) => {
        output += s;
      },
      writeErr: (s) => {
        errorOutput += s;
      },
    });
  try {
    program.parse(argv as string[], { from: 'node' });
  } catch (err) {
    if (err instanceof CommanderError) {
      const ok = err.exitCode === 0;
      return { kind: 'exit', code: ok ? 0 : 2, output: ok ? output : errorOutput || err.message, error: !ok };
    }
    throw err;
  }
  const o = program.opts<{ config?: string; logLevel?: LogLevel; check: boolean }>();
  const envLevel = env.BASTION_LOG_LEVEL;
  if (
    o.logLevel === undefined &&
    envLevel !== undefined &&
    !(LOG_LEVELS as readonly string[]).includes(envLevel)
  ) {
    return {
      kind: 'exit',
      code: 2,
      output: `error: BASTION_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}\n`,
      error: true,
    };
  }
  return {
    kind: 'run',
    options: {
      config: o.config ?? (env.BASTION_RUNCONFIG || undefined),
      logLevel: o.logLevel ?? (envLevel as LogLevel | undefined) ?? 'info',
      check: o.check,
    },
  };
}
