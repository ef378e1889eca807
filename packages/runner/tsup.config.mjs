import { libraryConfig } from '../../tooling/tsup.preset.mjs';

export default libraryConfig({ index: 'src/index.ts' });
