export { loadRunConfigFile, parseRunConfig, validateRunConfig } from './config/load.js';
export { runConfigJsonSchema } from './config/json-schema.js';
export { RESTRICTED_HEADERS, runConfigSchema } from './config/schema.js';
export { resolveSecrets } from './secrets/resolve-secrets.js';
export { buildChain, telemetryEnabled } from './chain/build-chain.js';
export { CHAIN_ORDER, assertCanonicalOrder } from './chain/order.js';
export {
  createUpstreamCredentialMiddleware,
  UPSTREAM_CREDENTIAL_MIDDLEWARE_NAME,
} from './chain/upstream-credential.js';
export { ACCESS_LOG_MIDDLEWARE_NAME, createAccessLogMiddleware } from './chain/access-log.js';
export { startProxy } from './start-proxy.js';
export { addressRefusal, classifyAddress } from './net/address-policy.js';
export { checkRemoteUrlSyntax, createSafeLookup, resolveAndCheckRemoteUrl } from './net/remote-url.js';
export { createRedirectCheck } from './net/redirect-policy.js';
export {
  RemoteUrlRefusedError,
  RemoteUrlUnresolvableError,
  RunConfigError,
  SecretUnavailableError,
} from './errors.js';

export type {
  AuditConfig,
  AuthConfig,
  AuthzConfig,
  HeaderForwardConfig,
  LimitsConfig,
  OidcAuthConfig,
  RunConfig,
  RunConfigInput,
  TelemetryConfig,
  TokenExchangeConfig,
  ToolsConfig,
} from './config/schema.js';
export type { RunConfigIssue } from './errors.js';
export type { ResolvedSecrets, SecretEnv, SecretFileReader } from './secrets/resolve-secrets.js';
export type { Chain, ChainDeps } from './chain/build-chain.js';
export type { ChainLayer } from './chain/order.js';
export type { UpstreamCredentialOptions } from './chain/upstream-credential.js';
export type { RunningProxy, StartProxyOptions } from './start-proxy.js';
export type { AddressClass, AddressPolicyOptions } from './net/address-policy.js';
export type { DnsLookup } from './net/remote-url.js';
