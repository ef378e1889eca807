/**
 * `createTelemetry`: the package's entry point. The OpenTelemetry SDK lives behind the
 * `@bastion-mcp/telemetry/sdk` subpath and is imported dynamically only when telemetry is enabled, so
 * an application with telemetry off never loads it.
 */
import { createDisabledTelemetry } from './disabled.js';
import { TelemetryError, TelemetryErrorCode } from './errors.js';
import { resolveOptions, type TelemetryOptions } from './options.js';
import type { Telemetry } from './types.js';

type SdkModule = typeof import('./sdk/index.js');

/**
 * The SDK entry, imported through the package's own `./sdk` export so that bundles keep it a separate,
 * lazily loaded file (a relative import would be inlined into the root bundle).
 */
const SDK_ENTRY = '@bastion-mcp/telemetry/sdk';

/**
 * Create a telemetry instance (traces, metrics, Prometheus endpoint).
 *
 * @throws TypeError naming the option when an option is invalid (synchronously checked, then rejected).
 * @throws TelemetryError `ERR_BASTION_TELEMETRY_SDK_START_FAILED` when the SDK cannot be loaded.
 *
 * @example
 * const telemetry = await createTelemetry({ serviceName: 'crm-proxy', sampleRatio: 0.1 });
 * const metrics = await telemetry.startMetricsServer({ host: '0.0.0.0', port: 9464 });
 * const proxy = await startProxyServer({ upstreamUrl, middlewares: [telemetry.edge, audit, auth, telemetry.middleware, authz] });
 */
export async function createTelemetry(options: TelemetryOptions = {}): Promise<Telemetry> {
  const resolved = resolveOptions(options);
  if (!resolved.enabled) return createDisabledTelemetry();
  let sdk: SdkModule;
  try {
    sdk = (await import(SDK_ENTRY)) as SdkModule;
  } catch (err) {
    throw new TelemetryError(TelemetryErrorCode.SdkStartFailed, 'the OpenTelemetry SDK could not be loaded', {
      cause: err,
    });
  }
  return sdk.createSdkTelemetry(resolved);
}
