export { loadRunConfigFile, parseRunConfig, validateRunConfig } from './config/load.js';
export { runConfigJsonSchema } from './config/json-schema.js';
export { RESTRICTED_HEADERS, runConfigSchema } from './config/schema.js';
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
export { RemoteUrlRefusedError, RunConfigError, SecretUnavailableError } from './errors.js';
export type { RunConfigIssue } from './errors.js';
