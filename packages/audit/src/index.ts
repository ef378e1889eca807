export { createAuditMiddleware } from './middleware.js';
export type { AuditMiddleware } from './middleware.js';
export { resolveAuditOptions } from './options.js';
export type { AuditOptions, AuditPayloadOptions, AuditSinkConfig } from './options.js';
export { AUDIT_EVENT_TYPES, AUDIT_OUTCOMES } from './event.js';
export type {
  AuditDelegation,
  AuditEvent,
  AuditEventType,
  AuditOutcome,
  AuditPayloads,
  AuditSource,
  AuditSubject,
  AuditTarget,
} from './event.js';
export { Auditor } from './auditor.js';
export type { AuditorOptions, AuditorStats } from './auditor.js';
export { createStreamSink } from './sinks/stream.js';
export type { StreamSinkOptions } from './sinks/stream.js';
export { createFileSink, DEFAULT_FILE_FLUSH_INTERVAL_MS } from './sinks/file.js';
export type { FileSink, FileSinkOptions } from './sinks/file.js';
export { createOtelSink } from './sinks/otel.js';
export type { OtelSinkOptions } from './sinks/otel.js';
export type { AuditSink } from './sinks/sink.js';
export { DEFAULT_REDACT_KEYS, REDACTED, scrub } from './redact.js';
export type { ScrubOptions } from './redact.js';
export { TrustedProxies } from './source.js';
export { auditEventSchema } from './schema.js';
export { AuditErrorCode, AuditSinkError } from './errors.js';
