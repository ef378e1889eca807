/** A static bearer token for the remote, read from a file or an environment variable at start. */
import { readFileSync } from 'node:fs';
import { CliError, CliErrorCode, ExitCode } from '../errors.js';
import type { CredentialState, UpstreamCredential } from './credential.js';

export function readStaticToken(
  spec: { tokenFile?: string | undefined; tokenEnv?: string | undefined },
  env = process.env,
): string {
  let token: string | undefined;
  if (spec.tokenFile) {
    try {
      token = readFileSync(spec.tokenFile, 'utf8').trim();
    } catch (err) {
      throw new CliError(CliErrorCode.Auth, `cannot read the bearer token file ${spec.tokenFile}`, {
        fix: 'Check the path given to --bearer-token-file and its permissions',
        exitCode: ExitCode.Auth,
        cause: err,
      });
    }
    if (!token) {
      throw new CliError(CliErrorCode.Auth, `the bearer token file ${spec.tokenFile} is empty`, {
        fix: 'Write the token into the file (one line)',
        exitCode: ExitCode.Auth,
      });
    }
  } else if (spec.tokenEnv) {
    token = env[spec.tokenEnv]?.trim();
    if (!token) {
      throw new CliError(CliErrorCode.Auth, `the environment variable ${spec.tokenEnv} is not set or empty`, {
        fix: `Export ${spec.tokenEnv} before running bastion (it is read at every start, never stored)`,
        exitCode: ExitCode.Auth,
      });
    }
  }
  if (!token) throw new TypeError('"tokenFile" or "tokenEnv" is required');
  return token;
}

export function createStaticCredential(token: string): UpstreamCredential {
  let state: CredentialState = { status: 'running' };
  const listeners = new Set<(s: CredentialState) => void>();
  return {
    token: async () => token,
    async handleUnauthorized() {
      // A static token cannot be refreshed: the remote rejected it for good.
      if (state.status !== 'unauthenticated') {
        state = {
          status: 'unauthenticated',
          reason:
            'the remote rejected the static bearer token (401); update the token and run `bastion restart <name>`',
        };
        for (const l of listeners) l(state);
      }
      return false;
    },
    state: () => state,
    onStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    retryAfterSeconds: () => 30,
    close: async () => {},
  };
}
