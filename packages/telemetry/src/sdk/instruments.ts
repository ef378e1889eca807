/** The metric instruments of one telemetry instance. */
import type { Attributes, Counter, Histogram, Meter, UpDownCounter } from '@opentelemetry/api';
import { MCP_DURATION_BUCKETS_SECONDS, MetricName } from '../names.js';

export interface Instruments {
  readonly requests: Counter;
  readonly requestDuration: Histogram;
  readonly toolCalls: Counter;
  readonly operationDuration: Histogram;
  readonly activeSseStreams: UpDownCounter;
  readonly upstreamDuration: Histogram;
  readonly idpDuration: Histogram;
  readonly cacheLookups: Counter;
  readonly auditDropped: Counter;
}

export function createInstruments(meter: Meter): Instruments {
  const seconds = (name: string, description: string): Histogram<Attributes> =>
    meter.createHistogram(name, {
      description,
      unit: 's',
      advice: { explicitBucketBoundaries: [...MCP_DURATION_BUCKETS_SECONDS] },
    });
  return {
    requests: meter.createCounter(MetricName.Requests, {
      description: 'MCP requests handled by the proxy, by method, tool, outcome and HTTP status',
      unit: '{request}',
    }),
    requestDuration: seconds(
      MetricName.RequestDuration,
      'Duration of MCP requests through the proxy, until the response body ended',
    ),
    toolCalls: meter.createCounter(MetricName.ToolCalls, {
      description: 'tools/call requests by tool and outcome',
      unit: '{call}',
    }),
    operationDuration: seconds(
      MetricName.OperationDuration,
      'MCP request duration as observed by the server',
    ),
    activeSseStreams: meter.createUpDownCounter(MetricName.ActiveSseStreams, {
      description: 'SSE streams currently relayed to clients',
      unit: '{stream}',
    }),
    upstreamDuration: seconds(
      MetricName.UpstreamDuration,
      'Time until the remote MCP server answered with headers (or failed)',
    ),
    idpDuration: seconds(MetricName.IdpDuration, 'Calls to the identity provider (JWKS, introspection, STS)'),
    cacheLookups: meter.createCounter(MetricName.CacheLookups, {
      description: 'Lookups in the shared caches (jwks, introspection, token-exchange, tools-list) by result',
      unit: '{lookup}',
    }),
    auditDropped: meter.createCounter(MetricName.AuditDropped, {
      description: 'Audit events that could not be written',
      unit: '{event}',
    }),
  };
}
