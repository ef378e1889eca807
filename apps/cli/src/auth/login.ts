/**
 * Interactive parts of OAuth, always in the foreground process: detection, the browser / device /
 * client-credentials login, and the checks `restart` does before starting a workload.
 */
import { readFileSync } from 'node:fs';
import type { ClientAssertionKeySpec, LoginOptions, RemoteAuthRequirement } from '@bastion-mcp/auth/client';
import type { Context } from '../commands/context.js';
import { err } from '../commands/context.js';
import { CliError, CliErrorCode, ExitCode } from '../errors.js';
import { openBrowser } from '../ui/browser.js';
import { stderrColors } from '../ui/color.js';
import { startSpinner } from '../ui/spinner.js';
import type { OAuthSpec, UpstreamAuthSpec, WorkloadDefinition } from '../workload/types.js';
import { toCliError } from './errors.js';
import { openTokenStore } from './store.js';

export interface InteractiveOptions {
  browser: boolean;
  loginTimeoutSeconds: number;
  /** A `--client-secret` value (goes to the encrypted store with the grant, never to workload.json). */
  clientSecret?: string | undefined;
  /** Override the grant for this login (`bastion login --device-code`). */
  deviceCode?: boolean | undefined;
}

async function detect(def: WorkloadDefinition, spec: Partial<OAuthSpec>) {
  const client = await import('@bastion-mcp/auth/client');
  const spinner = process.stderr.isTTY ? startSpinner(`Contacting ${def.remoteUrl}`) : undefined;
  try {
    return await client.detectRemoteAuth(def.remoteUrl, {
      allowIssuerMismatch: spec.allowIssuerMismatch,
      onWarning: (w) => err(`warning: ${w.message}`),
    });
  } catch (e) {
    throw toCliError(e, def.name);
  } finally {
    spinner?.stop();
  }
}

/** `run`: does the remote need OAuth? If so, log in now (before detaching) and return the spec. */
export async function detectAndLogin(
  def: WorkloadDefinition,
  ctx: Context,
  opts: InteractiveOptions & { oauth: OAuthSpec },
): Promise<UpstreamAuthSpec> {
  const detection = await detect(def, opts.oauth);
  if (!detection.required) {
    if (opts.oauth.clientId || opts.oauth.grant !== 'authorization_code') {
      err(`warning: ${def.remoteUrl} does not require authentication; the OAuth options are ignored`);
    }
    return { kind: 'none' };
  }
  const spec: UpstreamAuthSpec = { kind: 'oauth', ...opts.oauth };
  await performLogin(def, spec, detection, ctx, opts);
  return spec;
}

function readSecret(spec: OAuthSpec, given: string | undefined): string | undefined {
  if (given) return given;
  return readSecretFile(spec.clientSecretFile, '--client-secret-file');
}

function readSecretFile(file: string | undefined, flag: string): string | undefined {
  if (!file) return undefined;
  try {
    const s = readFileSync(file, 'utf8').trim();
    if (s) return s;
  } catch {
    // reported below
  }
  throw new CliError(CliErrorCode.Auth, `cannot read a client secret from ${file}`, {
    fix: `Check the path given to ${flag} (the file must hold the secret)`,
    exitCode: ExitCode.Auth,
  });
}

/** The private_key_jwt key of the spec (the file is read by the auth client at every token request). */
function assertionKeyOf(spec: OAuthSpec): ClientAssertionKeySpec | undefined {
  if (!spec.clientAssertionKeyFile) return undefined;
  return { keyFile: spec.clientAssertionKeyFile, alg: spec.clientAssertionAlg, kid: spec.clientAssertionKid };
}

/**
 * Test-only (`--no-browser` + `BASTION_TEST_AUTO_AUTHORIZE=1`): GET the authorization URL and follow
 * its redirects, for test authorization servers that approve without a user (the MCP conformance
 * suite's), so the code lands on our loopback callback. Never used unless that variable is set.
 */
function autoAuthorize(url: string): void {
  fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(30_000) })
    .then((res) => res.body?.cancel())
    .catch((e: unknown) => err(`warning: automatic authorization failed: ${(e as Error).message}`));
}

export async function performLogin(
  def: WorkloadDefinition,
  spec: OAuthSpec,
  detection: RemoteAuthRequirement,
  ctx: Pick<Context, 'paths'>,
  opts: InteractiveOptions,
): Promise<void> {
  const client = await import('@bastion-mcp/auth/client');
  const store = await openTokenStore(ctx.paths);
  const c = stderrColors();
  const common: LoginOptions = {
    name: def.name,
    store,
    auth: detection,
    client: {
      clientId: spec.clientId,
      clientSecret: readSecret(spec, opts.clientSecret),
      clientMetadataUrl: spec.clientMetadataUrl,
      clientName: 'Bastion',
    },
    scopes: spec.scopes ? [...spec.scopes] : undefined,
    resourceParam: spec.resourceParam,
    dpop: spec.dpop,
    onWarning: (w) => err(`warning: ${w.message}`),
  };
  const grant = opts.deviceCode ? 'device_code' : spec.grant;
  let spinner: ReturnType<typeof startSpinner> | undefined;
  try {
    if (grant === 'client_credentials') {
      await client.loginWithClientCredentials({ ...common, clientAssertionKey: assertionKeyOf(spec) });
    } else if (grant === 'jwt_bearer' || grant === 'id_jag') {
      const staticClient = {
        clientId: spec.clientId,
        clientSecret: common.client?.clientSecret,
        assertionKey: assertionKeyOf(spec),
      };
      if (grant === 'jwt_bearer') {
        await client.loginWithJwtBearer({
          ...common,
          client: staticClient,
          assertionFile: spec.jwtBearerAssertionFile as string,
        });
      } else {
        const idp = spec.idp;
        if (!idp)
          throw new CliError(CliErrorCode.Auth, 'the workload has no enterprise IdP settings', {
            exitCode: ExitCode.Auth,
          });
        await client.loginWithIdJag({
          ...common,
          client: staticClient,
          idp: {
            issuer: idp.issuer,
            tokenEndpoint: idp.tokenEndpoint,
            client: {
              clientId: idp.clientId,
              clientSecret: readSecretFile(idp.clientSecretFile, '--idp-client-secret-file'),
            },
            idTokenFile: idp.idTokenFile,
          },
        });
      }
    } else if (grant === 'device_code') {
      await client.loginWithDeviceCode({
        ...common,
        onDeviceCode: (info) => {
          err(
            `To sign in to ${def.name}, open ${c.cyan(info.verificationUri)} and enter the code ${c.bold(info.userCode)}`,
          );
          if (info.verificationUriComplete) err(`  (or open ${info.verificationUriComplete})`);
          spinner = startSpinner('Waiting for the login to finish');
        },
      });
    } else {
      await client.loginWithAuthorizationCode({
        ...common,
        callbackPort: spec.callbackPort,
        loginTimeoutMs: opts.loginTimeoutSeconds * 1000,
        scopeParamName: spec.scopeParamName,
        authorizeParams: spec.authorizeParams ? { ...spec.authorizeParams } : undefined,
        onAuthorizationUrl: (url) => {
          err(`Sign in to ${def.name} (${new URL(def.remoteUrl).host}) by opening this URL:`);
          err(`  ${url}`);
          if (opts.browser) openBrowser(url);
          else if (process.env.BASTION_TEST_AUTO_AUTHORIZE === '1') autoAuthorize(url);
          spinner = startSpinner(
            `Waiting for the login in the browser (up to ${Math.round(opts.loginTimeoutSeconds / 60)} min)`,
          );
        },
      });
    }
    spinner?.stop(`${c.green('✔')} Logged in to ${def.name}`);
  } catch (e) {
    spinner?.stop();
    throw toCliError(e, def.name);
  }
}

/**
 * Step-up for a running interactive proxy (`--stdio`, `--foreground`): the remote answered 403
 * `insufficient_scope`; discover from that challenge and log in again with `scopes` (prompts go to
 * stderr). The new scopes are not written to workload.json: a restart asks for them again only when
 * the remote does.
 */
export function createStepUpLogin(
  def: WorkloadDefinition,
  ctx: Pick<Context, 'paths'>,
  opts: InteractiveOptions,
): (scopes: string[], wwwAuthenticate: string) => Promise<void> {
  return async (scopes, wwwAuthenticate) => {
    if (def.auth.kind !== 'oauth') return;
    const spec: OAuthSpec = { ...def.auth, scopes };
    const client = await import('@bastion-mcp/auth/client');
    let detection: RemoteAuthRequirement;
    try {
      detection = await client.resolveRemoteAuth(def.remoteUrl, wwwAuthenticate, {
        allowIssuerMismatch: spec.allowIssuerMismatch,
        onWarning: (w) => err(`warning: ${w.message}`),
      });
    } catch (e) {
      throw toCliError(e, def.name);
    }
    err(`${def.name}: the remote requires more scopes (${scopes.join(' ')}); signing in again.`);
    await performLogin(def, spec, detection, ctx, opts);
  };
}

/** Discover from a 401 challenge (the start-up probe found no auth) and log in. */
export async function loginAfterChallenge(
  def: WorkloadDefinition,
  challenge: string,
  ctx: Pick<Context, 'paths'>,
  opts: InteractiveOptions,
): Promise<void> {
  if (def.auth.kind !== 'oauth') return;
  const client = await import('@bastion-mcp/auth/client');
  let detection: RemoteAuthRequirement;
  try {
    detection = await client.resolveRemoteAuth(def.remoteUrl, challenge, {
      allowIssuerMismatch: def.auth.allowIssuerMismatch,
      onWarning: (w) => err(`warning: ${w.message}`),
    });
  } catch (e) {
    throw toCliError(e, def.name);
  }
  err(`${def.name}: the remote requires authentication for this request; signing in.`);
  await performLogin(def, def.auth, detection, ctx, opts);
}

/**
 * `restart`/`login`: make sure the workload has a usable grant. Stored tokens are reused (one silent
 * refresh if they expired, no browser); a new login happens only when they are missing or revoked.
 * A transient AS failure does not block the start (the proxy retries in the background).
 */
export async function ensureLoggedIn(
  def: WorkloadDefinition,
  ctx: Context,
  opts: InteractiveOptions,
): Promise<void> {
  if (def.auth.kind !== 'oauth') return;
  const client = await import('@bastion-mcp/auth/client');
  const store = await openTokenStore(ctx.paths);
  const session = await client.OAuthSession.open({ name: def.name, store });
  try {
    await session.getAccessToken();
    return;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if ((e as { retryable?: boolean }).retryable || code === 'ERR_BASTION_OAUTH_LOCK_TIMEOUT') {
      err(`warning: ${(e as Error).message}; starting anyway, the proxy retries in the background`);
      return;
    }
  } finally {
    session.close();
  }
  err(`The stored login of ${def.name} is missing or no longer valid; logging in again.`);
  const detection = await detect(def, def.auth);
  if (!detection.required) return;
  await performLogin(def, def.auth, detection, ctx, opts);
}

/**
 * SEP-2352: a pre-registered client id belongs to the authorization server it was registered with.
 * When the remote now names another one, refuse to present it there (the user must bring a client
 * id of the new AS). Registered (DCR) and CIMD clients need nothing: registrations are per issuer.
 */
async function assertClientPortable(
  def: WorkloadDefinition,
  spec: OAuthSpec,
  detection: RemoteAuthRequirement,
  ctx: Pick<Context, 'paths'>,
): Promise<void> {
  if (!spec.clientId) return;
  const client = await import('@bastion-mcp/auth/client');
  const stored = await client
    .getStoredGrantInfo(await openTokenStore(ctx.paths), def.name)
    .catch(() => undefined);
  const trim = (s: string) => s.replace(/\/+$/, '');
  const issuer = detection.authorizationServer.issuer;
  if (stored?.clientSource !== 'static' || trim(stored.issuer) === trim(issuer)) return;
  throw new CliError(
    CliErrorCode.Auth,
    `${def.remoteUrl} now uses the authorization server ${issuer}, but the client id of ${def.name} was registered at ${stored.issuer}`,
    {
      fix: `Register a client at ${issuer}, then \`bastion rm ${def.name}\` and \`bastion run ${def.remoteUrl} --client-id <id>\``,
      exitCode: ExitCode.Auth,
    },
  );
}

/** `bastion login <name>`: a fresh login, whatever is stored. Returns the (possibly updated) auth spec. */
export async function freshLogin(
  def: WorkloadDefinition,
  ctx: Context,
  opts: InteractiveOptions,
): Promise<UpstreamAuthSpec> {
  const spec: OAuthSpec =
    def.auth.kind === 'oauth' ? def.auth : { grant: 'authorization_code', resourceParam: true };
  let detection = await detect(def, spec);
  if (!detection.required) {
    // A remote that protects only some methods: the running proxy recorded the 401 challenge.
    const challenge = ctx.store.readState(def.name)?.authChallenge;
    if (!challenge) {
      err(`${def.remoteUrl} does not require authentication; nothing to log in to.`);
      return def.auth;
    }
    const client = await import('@bastion-mcp/auth/client');
    try {
      detection = await client.resolveRemoteAuth(def.remoteUrl, challenge, {
        allowIssuerMismatch: spec.allowIssuerMismatch,
        onWarning: (w) => err(`warning: ${w.message}`),
      });
    } catch (e) {
      throw toCliError(e, def.name);
    }
  }
  await assertClientPortable(def, spec, detection, ctx);
  await performLogin(def, spec, detection, ctx, opts);
  return { kind: 'oauth', ...spec };
}

/**
 * `rm` / `logout`: delete the workload's grant and, on request, the dynamic client registration it
 * used (RFC 7592 DELETE at the AS when supported, and always the cached copy). A registration is
 * shared by every workload of one AS, so it is kept while another workload still uses it.
 */
export async function forgetTokens(
  def: WorkloadDefinition,
  ctx: Context,
  opts: { purgeRegistration: boolean },
): Promise<boolean> {
  const client = await import('@bastion-mcp/auth/client');
  const store = await openTokenStore(ctx.paths);
  if (opts.purgeRegistration) {
    const info = await client.getStoredGrantInfo(store, def.name).catch(() => undefined);
    if (!info) {
      err(`No stored login for ${def.name}; no client registration to delete.`);
    } else if (info.clientSource !== 'dcr') {
      err(
        `${def.name} uses a ${info.clientSource === 'static' ? 'pre-registered client' : 'client metadata document'}; there is no dynamic registration to delete.`,
      );
    } else {
      const sharing: string[] = [];
      for (const other of ctx.store.names()) {
        if (other === def.name) continue;
        const o = await client.getStoredGrantInfo(store, other).catch(() => undefined);
        if (o && o.clientSource === 'dcr' && o.issuer === info.issuer) sharing.push(other);
      }
      if (sharing.length > 0) {
        err(
          `warning: the client registration at ${info.issuer} is also used by ${sharing.join(', ')}; it is kept. Remove those with --purge-registration too to delete it.`,
        );
      } else {
        const result = await client.forgetRegistration(store, info.issuer);
        if (result.server === 'deleted') {
          err(`Deleted the client registration ${result.clientId} at ${info.issuer}.`);
        } else if (result.server === 'failed') {
          err(
            `warning: the authorization server ${info.issuer} did not delete client ${result.clientId}: ${result.reason}. The local copy is deleted; remove the client in the AS's console if needed.`,
          );
        } else if (result.server === 'not_supported') {
          err(
            `${info.issuer} offers no registration management (RFC 7592); forgot client ${result.clientId} locally only.`,
          );
        } else {
          err(`No cached client registration for ${info.issuer}.`);
        }
      }
    }
  }
  return client.forgetWorkload(store, def.name);
}
