/**
 * Run the proxy of one workload in this process: credential, chain, listener, and (unless
 * ephemeral) the state file that `list`/`status` read.
 */
import { CliError, formatErrorLine } from '../errors.js';
import type { BastionPaths } from '../paths.js';
import { runConfigOf } from '../workload/runconfig.js';
import type { WorkloadStore } from '../workload/store.js';
import type { WorkloadDefinition } from '../workload/types.js';
import {
  createUpstreamCredentialMiddleware,
  type CredentialState,
  type UpstreamCredential,
} from './credential.js';
import type { LateAuth } from './late-auth.js';
import type { CliLogger } from './logger.js';
import { type RunningProxy, startRunConfig } from './start-proxy.js';
import { createStaticCredential, readStaticToken } from './static-credential.js';

export interface ServeOptions {
  paths: BastionPaths;
  store: WorkloadStore;
  logger: CliLogger;
  /** Port to listen on; default the workload's port. 0 = any free port. */
  port?: number | undefined;
  /** Write `state.json` (false for the ephemeral proxy of the stdio bridge). */
  writeState: boolean;
  env?: NodeJS.ProcessEnv | undefined;
  /**
   * A user is present (`--stdio`, `--foreground`): an upstream 403 `insufficient_scope` triggers an
   * inline step-up login (prompts on stderr). Absent (detached): the workload turns
   * `unauthenticated` and records the required scopes for `bastion login`.
   */
  interactive?: { browser: boolean; loginTimeoutSeconds: number } | undefined;
}

export interface ServedWorkload {
  readonly proxy: RunningProxy;
  readonly credential: UpstreamCredential | undefined;
  close(): Promise<void>;
}

/** The credential for the remote, or undefined when the remote needs none. */
export async function createCredential(
  def: WorkloadDefinition,
  ctx: {
    paths: BastionPaths;
    logger: CliLogger;
    env?: NodeJS.ProcessEnv | undefined;
    interactive?: ServeOptions['interactive'];
  },
): Promise<UpstreamCredential | undefined> {
  switch (def.auth.kind) {
    case 'none':
      return undefined;
    case 'bearer':
      return createStaticCredential(readStaticToken(def.auth, ctx.env));
    case 'oauth': {
      const { createOAuthCredential } = await import('../auth/oauth.js');
      let stepUpLogin: ((scopes: string[], challenge: string) => Promise<void>) | undefined;
      if (ctx.interactive) {
        const { createStepUpLogin } = await import('../auth/login.js');
        stepUpLogin = createStepUpLogin(def, ctx, ctx.interactive);
      }
      return createOAuthCredential(def, { ...ctx, stepUpLogin });
    }
  }
}

export async function serveWorkload(def: WorkloadDefinition, options: ServeOptions): Promise<ServedWorkload> {
  const { store, logger } = options;
  const name = def.name;
  const startedAt = new Date().toISOString();
  const port = options.port ?? def.port;
  const write = (
    status: CredentialState['status'] | 'starting' | 'stopped' | 'error',
    extra: object = {},
  ) => {
    if (options.writeState) store.writeState(name, { pid: process.pid, port, startedAt, status, ...extra });
  };
  write('starting');
  let credential: UpstreamCredential | undefined;
  let lateAuth: LateAuth | undefined;
  let proxy: RunningProxy;
  try {
    const { validateRunConfig } = await import('@bastion-mcp/runner');
    const config = validateRunConfig(runConfigOf(def, port), `workload ${name}`);
    credential = await createCredential(def, options);
    if (!credential && def.auth.kind === 'none') {
      const { createLateAuth } = await import('./late-auth.js');
      lateAuth = createLateAuth(def, {
        paths: options.paths,
        logger,
        interactive: options.interactive,
        saveDefinition: (next) => {
          if (store.getDefinition(name).auth.kind === 'none') store.writeDefinition(next);
        },
      });
    }
    proxy = await startRunConfig(config, {
      logger,
      innerMiddlewares: credential
        ? [
            createUpstreamCredentialMiddleware(credential, {
              remoteUrl: def.remoteUrl,
              transport: def.transport,
            }),
          ]
        : lateAuth
          ? [lateAuth.middleware]
          : [],
      env: options.env,
    });
  } catch (err) {
    await credential?.close().catch(() => {});
    await lateAuth?.close().catch(() => {});
    logger.error({ event: 'start_failed', code: (err as { code?: string }).code }, formatErrorLine(err));
    if (options.writeState) {
      store.writeState(name, { status: 'error', reason: formatErrorLine(err), port, startedAt });
    }
    throw err;
  }
  const url = proxy.url;
  const publish = (st: CredentialState) => {
    write(st.status, {
      url,
      port: proxy.port,
      reason: st.reason,
      requiredScopes: st.requiredScopes,
      authChallenge: st.authChallenge,
    });
    logger.info(
      { event: 'status', status: st.status, reason: st.reason },
      `Workload ${name} is ${st.status}`,
    );
  };
  const source = credential ?? lateAuth;
  publish(source?.state() ?? { status: 'running' });
  const unsubscribe = source?.onStateChange(publish);
  logger.info(
    { event: 'listening', url, remote: def.remoteUrl },
    `Proxy for ${def.remoteUrl} listening on ${url}`,
  );
  let closing: Promise<void> | undefined;
  return {
    proxy,
    credential,
    close() {
      closing ??= (async () => {
        unsubscribe?.();
        try {
          await proxy.close();
        } finally {
          await credential?.close().catch(() => {});
          await lateAuth?.close().catch(() => {});
          if (options.writeState) store.writeState(name, { status: 'stopped', port: proxy.port, url });
          logger.info({ event: 'stopped' }, `Workload ${name} stopped`);
        }
      })();
      return closing;
    },
  };
}

/** Resolve on SIGINT/SIGTERM (once), after `onSignal` finished. */
export function untilSignal(onSignal: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let fired = false;
    const handler = () => {
      if (fired) return;
      fired = true;
      onSignal().finally(() => resolve());
    };
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
    process.once('SIGHUP', handler);
  });
}

export { CliError };
