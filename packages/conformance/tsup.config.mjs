import { appConfig } from '../../tooling/tsup.preset.mjs';

// Private package: ESM only, no declarations. `dist/cli.js` is what `npm run conformance` runs.
export default appConfig({
  index: 'src/index.ts',
  cli: 'src/cli.ts',
  // The client the conformance suite's client `auth` scenarios drive (bastion run --stdio + SDK client).
  'client-wrapper': 'src/client-auth/wrapper.ts',
});
