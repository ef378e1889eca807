/** OAuth client errors → one-line CLI errors with the fix. */
import { CliError, CliErrorCode, ExitCode } from '../errors.js';

const FIXES: Record<string, [string, ExitCode]> = {
  ERR_BASTION_OAUTH_NETWORK: ['Check the URL and your network connection, then retry', ExitCode.Network],
  ERR_BASTION_OAUTH_AS_UNAVAILABLE: [
    'The authorization server is unavailable; retry in a moment',
    ExitCode.Network,
  ],
  ERR_BASTION_OAUTH_CALLBACK_PORT_IN_USE: [
    'Free that port or pass --callback-port <port> (a pre-registered client must list that redirect URI)',
    ExitCode.Conflict,
  ],
  ERR_BASTION_OAUTH_TIMEOUT: [
    'Run the command again and finish the login in the browser (or use --device-code / --login-timeout)',
    ExitCode.Auth,
  ],
  ERR_BASTION_OAUTH_ABORTED: ['Run the command again to log in', ExitCode.Auth],
  ERR_BASTION_OAUTH_NO_S256: [
    'The authorization server does not support PKCE S256, which MCP requires; ask the server operator, or use --bearer-token-file',
    ExitCode.Auth,
  ],
  ERR_BASTION_OAUTH_ISSUER_MISMATCH: [
    'If you trust this server, retry with --allow-issuer-mismatch',
    ExitCode.Auth,
  ],
  ERR_BASTION_OAUTH_NO_CLIENT: [
    'Register a client with the provider and pass --client-id (and --client-secret-file for a confidential client)',
    ExitCode.Auth,
  ],
  ERR_BASTION_OAUTH_REGISTRATION: ['Register a client with the provider and pass --client-id', ExitCode.Auth],
  ERR_BASTION_OAUTH_STATE_MISMATCH: [
    'Start the login again and use only the newest login tab',
    ExitCode.Auth,
  ],
  ERR_BASTION_OAUTH_ISS_MISMATCH: ['Start the login again and use only the newest login tab', ExitCode.Auth],
  ERR_BASTION_OAUTH_AUTHORIZATION_DENIED: [
    'Approve the request in the browser, or check --scopes',
    ExitCode.Auth,
  ],
  ERR_BASTION_OAUTH_UNSUPPORTED_CHALLENGE: [
    'Pass a static token with --bearer-token-file or --bearer-token-env',
    ExitCode.Auth,
  ],
  ERR_BASTION_OAUTH_RESOURCE_MISMATCH: [
    'Check the server URL (exact path); its metadata names a different resource',
    ExitCode.Auth,
  ],
  ERR_BASTION_OAUTH_INSECURE_URL: ['Use https URLs (plain http is only allowed on loopback)', ExitCode.Auth],
  ERR_BASTION_OAUTH_DISCOVERY: [
    'Check the server URL; its OAuth metadata could not be found (or pass --bearer-token-file)',
    ExitCode.Auth,
  ],
  ERR_BASTION_OAUTH_UNSUPPORTED_GRANT: ['Use the browser login (drop --device-code)', ExitCode.Auth],
  ERR_BASTION_OAUTH_TOKEN_REQUEST: [
    'Check --client-id/--client-secret and the scopes, then log in again',
    ExitCode.Auth,
  ],
  ERR_BASTION_OAUTH_LOCK_TIMEOUT: [
    'Another bastion process is logging in to this workload; wait for it and retry',
    ExitCode.Conflict,
  ],
  ERR_BASTION_OAUTH_STORE: [
    'The token store is unreadable; run `bastion logout <name>` and log in again',
    ExitCode.Auth,
  ],
  ERR_BASTION_OAUTH_STATIC_TOKEN: ['Check the bearer token file', ExitCode.Auth],
  ERR_BASTION_OAUTH_CLIENT_ASSERTION_KEY: [
    'Check --client-assertion-key-file (a PEM or JWK private key) and --client-assertion-alg',
    ExitCode.Auth,
  ],
  ERR_BASTION_OAUTH_ASSERTION: [
    'Check the file given to --jwt-bearer-assertion-file or --idp-id-token-file (it must hold one JWT)',
    ExitCode.Auth,
  ],
};

export function toCliError(err: unknown, name: string): unknown {
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== 'string' || !code.startsWith('ERR_BASTION_OAUTH')) return err;
  const message = (err as Error).message.replace(/\.$/, '');
  if (code === 'ERR_BASTION_OAUTH_INVALID_GRANT' || code === 'ERR_BASTION_OAUTH_UNAUTHENTICATED') {
    return new CliError(CliErrorCode.Auth, message, {
      fix: `Run \`bastion login ${name}\``,
      exitCode: ExitCode.Auth,
      cause: err,
    });
  }
  const [fix, exitCode] = FIXES[code] ?? ['Run with --log-level debug for details', ExitCode.Auth];
  return new CliError(exitCode === ExitCode.Network ? CliErrorCode.Network : CliErrorCode.Auth, message, {
    fix: fix.replace('<name>', name),
    exitCode,
    cause: err,
  });
}
