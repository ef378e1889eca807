/**
 * Metric and span names (stable public contract; the README tables list them). OpenTelemetry
 * instrument names are written so that the Prometheus exporter, which only maps `.` to `_` and adds
 * `_total` to counters, produces conventional Prometheus names.
 */

/** MCP semconv bucket boundaries (seconds) for every duration histogram. */
export const MCP_DURATION_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300,
]);

export const MetricName = {
  /** Counter → `bastion_mcp_requests_total{server,mcp_method,tool,outcome,status_code}`. */
  Requests: 'bastion_mcp_requests',
  /** Histogram (s) → `bastion_mcp_request_duration_seconds{…same labels…}`. */
  RequestDuration: 'bastion_mcp_request_duration_seconds',
  /** Counter → `bastion_mcp_tool_calls_total{server,tool,outcome}`. */
  ToolCalls: 'bastion_mcp_tool_calls',
  /** MCP semconv histogram (s) → `mcp_server_operation_duration{mcp_method_name,…}`. */
  OperationDuration: 'mcp.server.operation.duration',
  /** Up/down counter → `bastion_mcp_active_sse_streams{server}`. */
  ActiveSseStreams: 'bastion_mcp_active_sse_streams',
  /** Histogram (s) → `bastion_upstream_request_duration_seconds{server,status_code,error_type}` (time to headers). */
  UpstreamDuration: 'bastion_upstream_request_duration_seconds',
  /** Histogram (s) → `bastion_idp_request_duration_seconds{kind,outcome}` (JWKS, introspection, STS…). */
  IdpDuration: 'bastion_idp_request_duration_seconds',
  /** Counter → `bastion_cache_lookups_total{cache,result}` (jwks, introspection, token-exchange, tools-list). */
  CacheLookups: 'bastion_cache_lookups',
  /** Counter → `bastion_audit_dropped_events_total{sink,reason}`. */
  AuditDropped: 'bastion_audit_dropped_events',
  /** Gauge → `process_resident_memory_bytes`. */
  ProcessRss: 'process_resident_memory_bytes',
  /** Gauge → `nodejs_heap_used_bytes`. */
  HeapUsed: 'nodejs_heap_used_bytes',
  /** Counter → `process_cpu_seconds_total` (user + system). */
  ProcessCpu: 'process_cpu_seconds',
  /** Gauge → `nodejs_eventloop_delay_seconds{quantile="0.5"|"0.99"|"max"}` since the previous collection. */
  EventLoopDelay: 'nodejs_eventloop_delay_seconds',
  /** Gauge → `process_uptime_seconds`. */
  Uptime: 'process_uptime_seconds',
} as const;

/** Instrumentation scope name of tracer and meter. */
export const INSTRUMENTATION_SCOPE = '@bastion-mcp/telemetry';
