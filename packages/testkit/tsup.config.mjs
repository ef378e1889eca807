import { appConfig } from '../../tooling/tsup.preset.mjs';

export default {
  ...appConfig({ index: 'src/index.ts' }),
  dts: { compilerOptions: { ignoreDeprecations: '6.0' } },
};
