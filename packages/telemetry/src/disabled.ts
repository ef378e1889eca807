/** The telemetry instance used when telemetry is off: pure pass-throughs, no OpenTelemetry code loaded. */
import type { Middleware } from '@bastion-mcp/proxy-core';
import { TelemetryError, TelemetryErrorCode } from './errors.js';
import type { Telemetry } from './types.js';

export function createDisabledTelemetry(): Telemetry {
  const passThrough = (name: string): Middleware => ({ name, handle: (_exchange, next) => next() });
  return {
    enabled: false,
    middleware: passThrough('telemetry'),
    edge: passThrough('telemetry-edge'),
    metricsHandler: undefined,
    startMetricsServer: () =>
      Promise.reject(new TelemetryError(TelemetryErrorCode.MetricsDisabled, 'telemetry is disabled')),
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}
