/**
 * Errors the CLI reports to the user. Every error is printed as ONE line: what went wrong, then what
 * to do about it (`fix`). The process exit code comes from `exitCode` (see `ExitCode`).
 */

/** Documented process exit codes (README "Exit codes"). */
export const ExitCode = {
  Ok: 0,
  /** Unexpected failure (a bug or an environment problem). */
  Error: 1,
  /** Wrong command line: unknown option, missing argument, invalid value. */
  Usage: 2,
  /** The named workload (or client entry, file) does not exist. */
  NotFound: 3,
  /** Conflict: the name already exists, the port is taken, the workload is already running. */
  Conflict: 4,
  /** Authentication to the remote failed or is needed (`bastion login <name>`). */
  Auth: 5,
  /** The remote (or its authorization server) could not be reached. */
  Network: 6,
  /** `bastion authz check`: the request is denied. */
  Denied: 7,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const CliErrorCode = {
  Usage: 'ERR_BASTION_CLI_USAGE',
  NotFound: 'ERR_BASTION_CLI_NOT_FOUND',
  Exists: 'ERR_BASTION_CLI_EXISTS',
  PortInUse: 'ERR_BASTION_CLI_PORT_IN_USE',
  NotRunning: 'ERR_BASTION_CLI_NOT_RUNNING',
  StartFailed: 'ERR_BASTION_CLI_START_FAILED',
  Auth: 'ERR_BASTION_CLI_AUTH',
  Network: 'ERR_BASTION_CLI_NETWORK',
  Config: 'ERR_BASTION_CLI_CONFIG',
  ClientConfig: 'ERR_BASTION_CLI_CLIENT_CONFIG',
  State: 'ERR_BASTION_CLI_STATE',
} as const;
export type CliErrorCode = (typeof CliErrorCode)[keyof typeof CliErrorCode];

export interface CliErrorOptions {
  /** What the user should do, as an imperative sentence ("Run `bastion list --all` to see …"). */
  fix?: string | undefined;
  exitCode?: ExitCode | undefined;
  cause?: unknown;
}

/** An error meant for the user: printed as one line (`message. fix`) without a stack trace. */
export class CliError extends Error {
  readonly code: CliErrorCode;
  readonly fix: string | undefined;
  readonly exitCode: ExitCode;

  constructor(code: CliErrorCode, message: string, options: CliErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.code = code;
    this.fix = options.fix;
    this.exitCode = options.exitCode ?? ExitCode.Error;
  }
}

/** The one line printed for an error: message, then the fix, on a single line. */
export function formatErrorLine(err: unknown): string {
  if (err instanceof CliError) {
    const msg = oneLine(err.message);
    return err.fix ? `${msg}. ${oneLine(err.fix)}` : msg;
  }
  const e = err as { message?: unknown; code?: unknown; issues?: unknown };
  if (e && typeof e.message === 'string') {
    return oneLine(e.message);
  }
  return oneLine(String(err));
}

/** Collapse whitespace so an error always fits one terminal line. */
export function oneLine(text: string): string {
  return text
    .replace(/\s*\n\s*/g, '; ')
    .replace(/\s+/g, ' ')
    .trim();
}

export function usageError(message: string, fix?: string): CliError {
  return new CliError(CliErrorCode.Usage, message, { fix, exitCode: ExitCode.Usage });
}

export function notFoundError(name: string): CliError {
  return new CliError(CliErrorCode.NotFound, `no workload named "${name}"`, {
    fix: 'Run `bastion list --all` to see your workloads',
    exitCode: ExitCode.NotFound,
  });
}
