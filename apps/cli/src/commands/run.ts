/** `bastion run <url>`: detect auth, log in in the foreground, then serve (detached by default). */
import { isAbsolute, resolve } from 'node:path';
import { CliError, CliErrorCode, ExitCode, usageError } from '../errors.js';
import { deriveName, isValidName } from '../workload/name.js';
import { pickFreePort, isPortFree } from '../workload/ports.js';
import { type MiddlewareFlags, middlewareFromFlags, parsePairs, splitList } from '../workload/runconfig.js';
import type {
  DPoPFlag,
  OAuthSpec,
  Transport,
  UpstreamAuthSpec,
  WorkloadDefinition,
} from '../workload/types.js';
import { portInUse } from '../serve/start-proxy.js';
import { type CommandLike, context, type Context } from './context.js';
import { printStarted, startWorkload } from './start.js';

export interface RunFlags extends MiddlewareFlags {
  name?: string;
  port?: number;
  transport?: Transport;
  foreground?: boolean;
  stdio?: boolean;
  browser: boolean;
  deviceCode?: boolean;
  clientCredentials?: boolean;
  clientId?: string;
  clientSecret?: string;
  clientSecretFile?: string;
  clientMetadataUrl?: string;
  clientAssertionKeyFile?: string;
  clientAssertionAlg?: string;
  clientAssertionKid?: string;
  jwtBearerAssertionFile?: string;
  idpIdTokenFile?: string;
  idpIssuer?: string;
  idpTokenEndpoint?: string;
  idpClientId?: string;
  idpClientSecretFile?: string;
  scopes?: string;
  resourceParam: boolean;
  dpop?: DPoPFlag;
  scopeParamName?: string;
  authorizeParam?: string[];
  callbackPort?: number;
  loginTimeout: number;
  allowIssuerMismatch?: boolean;
  bearerTokenFile?: string;
  bearerTokenEnv?: string;
  allowedOrigin?: string[];
}

export function parseRemoteUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usageError(
      `"${value}" is not a URL`,
      'Pass the full URL of the remote MCP server, e.g. https://mcp.example.com/mcp',
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw usageError(
      `"${value}" is not an http(s) URL`,
      'Pass the full URL of the remote MCP server, e.g. https://mcp.example.com/mcp',
    );
  }
  if (url.username || url.password) {
    throw usageError(
      'the URL must not contain credentials',
      'Use --bearer-token-file or OAuth instead of user:password@ in the URL',
    );
  }
  url.hash = '';
  return url;
}

const abs = (p: string) => (isAbsolute(p) ? p : resolve(process.cwd(), p));

function authSpecOf(flags: RunFlags): UpstreamAuthSpec | 'detect' {
  if (flags.bearerTokenFile && flags.bearerTokenEnv) {
    throw usageError('--bearer-token-file and --bearer-token-env are exclusive', 'Pass only one of them');
  }
  if (flags.bearerTokenFile) return { kind: 'bearer', tokenFile: abs(flags.bearerTokenFile) };
  if (flags.bearerTokenEnv) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(flags.bearerTokenEnv)) {
      throw usageError(
        `--bearer-token-env "${flags.bearerTokenEnv}" is not a variable name`,
        'Pass the NAME of the environment variable that holds the token, not the token',
      );
    }
    return { kind: 'bearer', tokenEnv: flags.bearerTokenEnv };
  }
  const grants = [
    flags.deviceCode && '--device-code',
    flags.clientCredentials && '--client-credentials',
    flags.jwtBearerAssertionFile && '--jwt-bearer-assertion-file',
    flags.idpIdTokenFile && '--idp-id-token-file',
  ].filter(Boolean);
  if (grants.length > 1) {
    throw usageError(`${grants.join(' and ')} are exclusive`, 'Pick one grant');
  }
  validateAssertionFlags(flags);
  if (flags.clientSecret && flags.clientSecretFile) {
    throw usageError('--client-secret and --client-secret-file are exclusive', 'Pass only one of them');
  }
  if ((flags.clientSecret || flags.clientSecretFile) && !flags.clientId) {
    throw usageError('a client secret needs --client-id', 'Add --client-id <id>');
  }
  if (
    flags.clientCredentials &&
    (!flags.clientId || !(flags.clientSecret || flags.clientSecretFile || flags.clientAssertionKeyFile))
  ) {
    throw usageError(
      '--client-credentials needs --client-id and a client secret or key',
      'Add --client-id <id> and --client-secret-file <file> or --client-assertion-key-file <file>',
    );
  }
  return 'detect';
}

/** Checks of the private_key_jwt, JWT-bearer and enterprise IdP (ID-JAG) flags. */
function validateAssertionFlags(flags: RunFlags): void {
  if ((flags.clientAssertionAlg || flags.clientAssertionKid) && !flags.clientAssertionKeyFile) {
    throw usageError(
      '--client-assertion-alg and --client-assertion-kid need --client-assertion-key-file',
      'Add --client-assertion-key-file <file>',
    );
  }
  if (flags.clientAssertionKeyFile) {
    if (!flags.clientId)
      throw usageError('--client-assertion-key-file needs --client-id', 'Add --client-id <id>');
    if (flags.clientSecret || flags.clientSecretFile) {
      throw usageError(
        '--client-assertion-key-file and a client secret are exclusive',
        'Authenticate the client with either the key or the secret',
      );
    }
    if (!(flags.clientCredentials || flags.jwtBearerAssertionFile || flags.idpIdTokenFile)) {
      throw usageError(
        '--client-assertion-key-file works with --client-credentials, --jwt-bearer-assertion-file or --idp-id-token-file',
        'Add the grant that should use private_key_jwt client authentication',
      );
    }
  }
  const idpFlags = [
    flags.idpIssuer && '--idp-issuer',
    flags.idpTokenEndpoint && '--idp-token-endpoint',
    flags.idpClientId && '--idp-client-id',
    flags.idpClientSecretFile && '--idp-client-secret-file',
  ].filter(Boolean);
  if (!flags.idpIdTokenFile) {
    if (idpFlags.length > 0) {
      throw usageError(
        `${idpFlags.join(', ')} need --idp-id-token-file`,
        'Add --idp-id-token-file <file> (the ID token from the enterprise sign-in)',
      );
    }
    return;
  }
  if (!flags.idpIssuer && !flags.idpTokenEndpoint) {
    throw usageError(
      '--idp-id-token-file needs --idp-issuer or --idp-token-endpoint',
      'Add --idp-issuer <url> of the enterprise IdP',
    );
  }
  for (const [value, flag] of [
    [flags.idpIssuer, '--idp-issuer'],
    [flags.idpTokenEndpoint, '--idp-token-endpoint'],
  ] as const) {
    if (value !== undefined && !URL.canParse(value))
      throw usageError(`${flag} "${value}" is not a URL`, `Pass the full URL, e.g. https://idp.example.com`);
  }
  if (!flags.idpClientId) {
    throw usageError(
      '--idp-id-token-file needs --idp-client-id',
      'Add --idp-client-id <id> (the client at the IdP)',
    );
  }
  if (!flags.clientId) {
    throw usageError(
      "--idp-id-token-file needs --client-id (the client at the MCP server's authorization server)",
      'Add --client-id <id> and --client-secret-file <file> (or --client-assertion-key-file)',
    );
  }
}

export function oauthSpecOf(flags: RunFlags): OAuthSpec {
  return {
    grant: flags.clientCredentials
      ? 'client_credentials'
      : flags.jwtBearerAssertionFile
        ? 'jwt_bearer'
        : flags.idpIdTokenFile
          ? 'id_jag'
          : flags.deviceCode
            ? 'device_code'
            : 'authorization_code',
    clientId: flags.clientId,
    clientSecretFile: flags.clientSecretFile ? abs(flags.clientSecretFile) : undefined,
    clientSecretStored: flags.clientSecret ? true : undefined,
    scopes: flags.scopes ? splitList(flags.scopes) : undefined,
    resourceParam: flags.resourceParam,
    dpop: flags.dpop,
    scopeParamName: flags.scopeParamName,
    authorizeParams: flags.authorizeParam ? parsePairs(flags.authorizeParam, '--authorize-param') : undefined,
    callbackPort: flags.callbackPort,
    clientMetadataUrl: flags.clientMetadataUrl,
    allowIssuerMismatch: flags.allowIssuerMismatch,
    clientAssertionKeyFile: flags.clientAssertionKeyFile ? abs(flags.clientAssertionKeyFile) : undefined,
    clientAssertionAlg: flags.clientAssertionAlg,
    clientAssertionKid: flags.clientAssertionKid,
    jwtBearerAssertionFile: flags.jwtBearerAssertionFile ? abs(flags.jwtBearerAssertionFile) : undefined,
    idp: flags.idpIdTokenFile
      ? {
          issuer: flags.idpIssuer,
          tokenEndpoint: flags.idpTokenEndpoint,
          clientId: flags.idpClientId as string,
          clientSecretFile: flags.idpClientSecretFile ? abs(flags.idpClientSecretFile) : undefined,
          idTokenFile: abs(flags.idpIdTokenFile),
        }
      : undefined,
  };
}

export async function runCommand(urlArg: string, flags: RunFlags, cmd: CommandLike): Promise<void> {
  const ctx = context(cmd);
  const url = parseRemoteUrl(urlArg);
  const name = flags.name ?? deriveName(url);
  if (!isValidName(name)) {
    throw usageError(
      `"${name}" is not a valid workload name`,
      'Use --name with lower-case letters, digits and dashes (max 63)',
    );
  }
  if (flags.stdio && flags.foreground)
    throw usageError('--stdio already runs in the foreground', 'Drop --foreground');
  if (flags.callbackPort !== undefined && flags.callbackPort !== 0 && flags.callbackPort < 1024) {
    throw usageError(
      `--callback-port ${flags.callbackPort} is a privileged port`,
      'Choose a port between 1024 and 65535',
    );
  }
  const authMode = authSpecOf(flags);
  const middleware = middlewareFromFlags(flags, abs);
  const transport: Transport = flags.transport ?? (url.pathname.endsWith('/sse') ? 'sse' : 'streamable-http');

  const existing = ctx.store.readDefinition(name);
  if (existing) {
    if (flags.stdio && existing.remoteUrl === url.href) {
      const { runStdio } = await import('./stdio.js');
      return runStdio(existing, ctx, { browser: flags.browser, loginTimeoutSeconds: flags.loginTimeout });
    }
    throw new CliError(CliErrorCode.Exists, `a workload named "${name}" already exists`, {
      fix: `Start it with \`bastion restart ${name}\`, pick another --name, or remove it with \`bastion rm ${name}\``,
      exitCode: ExitCode.Conflict,
    });
  }

  let port = flags.port ?? 0;
  if (!flags.stdio) {
    if (port === 0) port = await pickFreePort();
    else if (!(await isPortFree(port))) throw portInUse(port, name);
  }

  const def: WorkloadDefinition = {
    version: 1,
    name,
    remoteUrl: url.href,
    transport,
    port,
    auth: authMode === 'detect' ? { kind: 'none' } : authMode,
    middleware,
    allowedOrigins: flags.allowedOrigin,
    logLevel: ctx.globals.logLevel,
    createdAt: new Date().toISOString(),
  };
  // Validate the RunConfig now, so a bad flag fails before any login or process start.
  const { validateRunConfig } = await import('@bastion-mcp/runner');
  const { runConfigOf } = await import('../workload/runconfig.js');
  validateRunConfig(runConfigOf(def, port === 0 ? 8080 : port), 'command line');

  let finalDef = def;
  if (authMode === 'detect') {
    const { detectAndLogin } = await import('../auth/login.js');
    const auth = await detectAndLogin(def, ctx, {
      oauth: oauthSpecOf(flags),
      clientSecret: flags.clientSecret,
      browser: flags.browser,
      loginTimeoutSeconds: flags.loginTimeout,
    });
    finalDef = { ...def, auth };
  }
  ctx.store.writeDefinition(finalDef);

  if (flags.stdio) {
    const { runStdio } = await import('./stdio.js');
    return runStdio(finalDef, ctx, { browser: flags.browser, loginTimeoutSeconds: flags.loginTimeout });
  }
  await startOrForeground(finalDef, ctx, Boolean(flags.foreground), {
    browser: flags.browser,
    loginTimeoutSeconds: flags.loginTimeout,
  });
}

export async function startOrForeground(
  def: WorkloadDefinition,
  ctx: Context,
  foreground: boolean,
  interactive: { browser: boolean; loginTimeoutSeconds: number },
): Promise<void> {
  if (foreground) {
    const { runForeground } = await import('./foreground.js');
    return runForeground(def, ctx, interactive);
  }
  const state = await startWorkload(def, ctx);
  printStarted(def, state);
}
