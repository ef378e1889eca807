import { appConfig } from '../../tooling/tsup.preset.mjs';

export default appConfig({ main: 'src/main.ts' });
