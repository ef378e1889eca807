export { createTelemetry } from './create-telemetry.js';
export { TelemetryError, TelemetryErrorCode } from './errors.js';
export { DEFAULT_REDACT_KEYS, REDACTED, redactArguments, redactValue } from './redact.js';
export { KnownTools, OTHER_TOOL } from './known-tools.js';
export { classify, requestFacts, spanNameOf } from './classify.js';
export { INSTRUMENTATION_SCOPE, MCP_DURATION_BUCKETS_SECONDS, MetricName } from './names.js';
export { resolveOptions } from './options.js';

export type { AnswerFacts, Classification, Outcome, RequestFacts } from './classify.js';
export type { OtlpOptions, ResolvedOptions, TelemetryOptions } from './options.js';
export type { RedactOptions } from './redact.js';
export type { MetricsServer, MetricsServerOptions, Telemetry } from './types.js';
