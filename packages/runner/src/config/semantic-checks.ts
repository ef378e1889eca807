/**
 * Checks that span several fields (or need URL/address logic) and so do not fit the zod schema: the
 * remote URL's scheme and literal address, plain-http identity-provider URLs, a secret referenced
 * twice, and two settings that would both write the upstream `Authorization` header.
 */
import { RemoteUrlRefusedError, type RunConfigIssue } from '../errors.js';
import { classifyAddress } from '../net/address-policy.js';
import { checkRemoteUrlSyntax } from '../net/remote-url.js';
import type { RunConfig } from './schema.js';

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host.endsWith('.localhost') || classifyAddress(host) === 'loopback';
}

/** Identity-provider URLs must be https; plain http only to loopback with `insecureLoopback`. */
function idpUrlIssue(path: string, raw: string | undefined, insecureLoopback: boolean): RunConfigIssue[] {
  if (raw === undefined) return [];
  const url = new URL(raw); // the schema already checked it is an absolute http(s) URL
  if (url.protocol === 'https:') return [];
  if (insecureLoopback && isLoopbackHost(url.hostname)) return [];
  return [
    {
      path,
      message: isLoopbackHost(url.hostname)
        ? 'plain http is only allowed for loopback addresses with "insecureLoopback": true (development only)'
        : 'must use https (plain http only for loopback addresses with "insecureLoopback")',
    },
  ];
}

function oneOf(
  path: string,
  a: string,
  b: string,
  obj: Record<string, unknown> | undefined,
): RunConfigIssue[] {
  if (obj && obj[a] !== undefined && obj[b] !== undefined) {
    return [{ path: `${path}.${b}`, message: `set either "${a}" or "${b}", not both` }];
  }
  return [];
}

export function semanticIssues(cfg: RunConfig): RunConfigIssue[] {
  const out: RunConfigIssue[] = [];
  const policy = { insecureLoopback: cfg.insecureLoopback, allowPrivateEndpoint: cfg.allowPrivateEndpoint };
  try {
    checkRemoteUrlSyntax(cfg.remoteUrl, policy);
  } catch (err) {
    if (!(err instanceof RemoteUrlRefusedError)) throw err;
    out.push({
      path: 'remoteUrl',
      message: `refused: ${err.reason}${err.address ? ` (${err.address})` : ''}`,
    });
  }

  const auth = cfg.auth;
  if (auth.mode === 'oidc') {
    out.push(...idpUrlIssue('auth.issuer', auth.issuer, cfg.insecureLoopback));
    out.push(...idpUrlIssue('auth.jwksUrl', auth.jwksUrl, cfg.insecureLoopback));
    out.push(...idpUrlIssue('auth.introspectionUrl', auth.introspectionUrl, cfg.insecureLoopback));
    out.push(...oneOf('auth', 'clientSecretEnv', 'clientSecretFile', auth));
    if ((auth.clientSecretEnv || auth.clientSecretFile) && !auth.clientId) {
      out.push({
        path: 'auth.clientId',
        message: 'required when an introspection client secret is configured',
      });
    }
  }

  const te = cfg.tokenExchange;
  if (te) {
    out.push(...idpUrlIssue('tokenExchange.tokenUrl', te.tokenUrl, cfg.insecureLoopback));
    out.push(...idpUrlIssue('tokenExchange.issuer', te.issuer, cfg.insecureLoopback));
    out.push(...oneOf('tokenExchange', 'clientSecretEnv', 'clientSecretFile', te));
    out.push(...oneOf('tokenExchange', 'privateKeyEnv', 'privateKeyFile', te));
    if (te.clientAuth === 'private_key_jwt' && (te.clientSecretEnv || te.clientSecretFile)) {
      out.push({
        path: 'tokenExchange.clientSecretEnv',
        message: 'not used with clientAuth "private_key_jwt" (remove it)',
      });
    }
    if (te.clientAuth !== 'private_key_jwt' && (te.privateKeyEnv || te.privateKeyFile)) {
      out.push({
        path: 'tokenExchange.privateKeyFile',
        message: `only used with clientAuth "private_key_jwt" (clientAuth is "${te.clientAuth}")`,
      });
    }
  }

  const ua = cfg.upstreamAuth;
  if (ua) {
    out.push(...oneOf('upstreamAuth', 'bearerTokenEnv', 'bearerTokenFile', ua));
    if (!ua.bearerTokenEnv && !ua.bearerTokenFile) {
      out.push({ path: 'upstreamAuth', message: 'set "bearerTokenEnv" or "bearerTokenFile"' });
    }
  }

  const passthrough = auth.mode === 'oidc' && auth.passthroughToken;
  if (passthrough && (te || ua)) {
    out.push({
      path: 'auth.passthroughToken',
      message: `cannot be combined with "${te ? 'tokenExchange' : 'upstreamAuth'}": choose one upstream credential`,
    });
  }

  // Forwarded headers are applied innermost; they must not silently replace a credential.
  const forwarded = [
    ...Object.keys(cfg.headerForward?.plain ?? {}).map((h) => ['plain', h] as const),
    ...Object.keys(cfg.headerForward?.fromEnv ?? {}).map((h) => ['fromEnv', h] as const),
  ];
  const seen = new Map<string, string>();
  for (const [kind, header] of forwarded) {
    const lower = header.toLowerCase();
    const path = `headerForward.${kind}.${header}`;
    const prior = seen.get(lower);
    if (prior) out.push({ path, message: `header also set by ${prior}` });
    seen.set(lower, path);
    const teWritesAuthorization = te !== undefined && (te.header === undefined || te.header.keepOriginal);
    if (lower === 'authorization' && (teWritesAuthorization || ua || passthrough)) {
      out.push({
        path,
        message: `would replace the upstream credential set by ${ua ? 'upstreamAuth' : passthrough ? 'auth.passthroughToken' : 'tokenExchange'}`,
      });
    }
    if (te?.header && lower === te.header.name.toLowerCase()) {
      out.push({ path, message: 'would replace the exchanged token header (tokenExchange.header.name)' });
    }
  }

  if (cfg.listen.path === '/health' || cfg.listen.path === '/ready' || cfg.listen.path === '/') {
    out.push({ path: 'listen.path', message: 'must not be "/", "/health" or "/ready"' });
  }
  return out;
}
