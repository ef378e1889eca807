import { libraryConfig } from '../../tooling/tsup.preset.mjs';

// The SDK half is its own entry and stays an external self-reference from the root entry, so the
// root bundle never pulls the OpenTelemetry SDK in (it is `import()`ed only when telemetry is enabled).
export default {
  ...libraryConfig({ index: 'src/index.ts', sdk: 'src/sdk/index.ts' }),
  external: ['@bastion-mcp/telemetry/sdk'],
};
