/**
 * OpenTelemetry logs sink: each event becomes one log record on the global LoggerProvider
 * (`@opentelemetry/api-logs`). Without a registered provider the API's no-op logger makes this free.
 */
import type { AnyValue, AnyValueMap } from '@opentelemetry/api-logs';
import { logs, SeverityNumber } from '@opentelemetry/api-logs';
import type { AuditEvent } from '../event.js';
import type { AuditSink } from './sink.js';

export interface OtelSinkOptions {
  /** Instrumentation scope name. Default `@bastion-mcp/audit`. */
  loggerName?: string | undefined;
  /** Default `otel`. */
  name?: string | undefined;
}

/** JSON value → OTel AnyValue (drops `undefined`, keeps nesting). */
function toAnyValue(v: unknown): AnyValue {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map(toAnyValue);
  if (typeof v === 'object') {
    const out: AnyValueMap = {};
    for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
      if (item !== undefined) out[k] = toAnyValue(item);
    }
    return out;
  }
  return String(v);
}

export function createOtelSink(options: OtelSinkOptions = {}): AuditSink {
  const loggerName = options.loggerName ?? '@bastion-mcp/audit';
  return {
    name: options.name ?? 'otel',
    async write(events: readonly AuditEvent[]): Promise<void> {
      // Looked up per batch so a provider registered after start-up is picked up.
      const logger = logs.getLogger(loggerName);
      for (const e of events) {
        const attributes: AnyValueMap = {
          'audit.id': e.auditId,
          'audit.type': e.type,
          'audit.outcome': e.outcome,
          'mcp.server': e.target.server,
          'http.response.status_code': e.status,
        };
        if (e.target.method !== undefined) attributes['mcp.method.name'] = e.target.method;
        if (e.target.tool !== undefined) attributes['gen_ai.tool.name'] = e.target.tool;
        if (e.subject.userId !== undefined) attributes['enduser.id'] = e.subject.userId;
        logger.emit({
          eventName: 'bastion.audit',
          timestamp: new Date(e.time),
          severityNumber: e.outcome === 'error' ? SeverityNumber.WARN : SeverityNumber.INFO,
          severityText: 'AUDIT',
          body: toAnyValue(e),
          attributes,
        });
      }
    },
  };
}
