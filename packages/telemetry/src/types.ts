/** The public shape of a telemetry instance. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Middleware } from '@bastion-mcp/proxy-core';

/** A running Prometheus listener. */
export interface MetricsServer {
  /** `http://<host>:<port><metricsPath>` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface MetricsServerOptions {
  /** Interface to bind. Default `127.0.0.1` (set `0.0.0.0` in a container so Prometheus can scrape). */
  host?: string | undefined;
  /** TCP port; `0` picks a free one. Default 9464 (the registered Prometheus exporter port). */
  port?: number | undefined;
}

export interface Telemetry {
  /** `false` when created with `enabled: false` (no SDK loaded; everything is a pass-through). */
  readonly enabled: boolean;
  /**
   * The chain middleware (name `telemetry`), chain position 6 (PRODUCT.md §1.2): MCP attributes with
   * the real tool name, W3C trace context injected upstream, tools/list observed for the label guard.
   */
  readonly middleware: Middleware;
  /**
   * Optional outermost middleware (name `telemetry-edge`, placed before `audit`): opens the SERVER span
   * and records the request metrics for every request, including those that outer layers (auth 401,
   * token-exchange 401/503, tool-filter -32602) answer before `middleware` runs, and parents the
   * STS/JWKS/introspection CLIENT spans. Without it those early answers produce neither span nor metric.
   */
  readonly edge: Middleware;
  /** Prometheus text handler for `GET <metricsPath>` (404 for other paths); `undefined` when Prometheus is off. */
  readonly metricsHandler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  /** Start the separate Prometheus listener. Rejects with `ERR_BASTION_TELEMETRY_METRICS_DISABLED` when Prometheus is off. */
  startMetricsServer(options?: MetricsServerOptions): Promise<MetricsServer>;
  /** Export everything buffered now (spans and metrics). */
  forceFlush(): Promise<void>;
  /** Flush, stop exporters, metrics listeners and diagnostics subscriptions. Idempotent. */
  shutdown(): Promise<void>;
}
