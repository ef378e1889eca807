/**
 * Errors of the telemetry package. Option mistakes throw `TypeError` synchronously (naming the option);
 * runtime failures reject with a coded `TelemetryError`.
 */
import { BastionError } from '@bastion-mcp/proxy-core';

export const TelemetryErrorCode = {
  /** A metrics operation was asked for while metrics (or Prometheus) are disabled. */
  MetricsDisabled: 'ERR_BASTION_TELEMETRY_METRICS_DISABLED',
  /** The metrics listener could not bind its address. */
  ListenFailed: 'ERR_BASTION_TELEMETRY_LISTEN_FAILED',
  /** The OpenTelemetry SDK could not be loaded or started. */
  SdkStartFailed: 'ERR_BASTION_TELEMETRY_SDK_START_FAILED',
} as const;
export type TelemetryErrorCode = (typeof TelemetryErrorCode)[keyof typeof TelemetryErrorCode];

export class TelemetryError extends BastionError {
  static override readonly code: string = 'ERR_BASTION_TELEMETRY';
  declare readonly code: TelemetryErrorCode;

  constructor(code: TelemetryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, { code, cause: options?.cause });
  }
}
