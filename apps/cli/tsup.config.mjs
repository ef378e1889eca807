import { readFileSync } from 'node:fs';
import { appConfig } from '../../tooling/tsup.preset.mjs';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

// Code splitting keeps `bastion --help` fast: every command's module (and the heavy libraries it
// imports) is a separate chunk loaded only when that command runs.
export default {
  ...appConfig({ main: 'src/main.ts' }),
  splitting: true,
  define: { __BASTION_VERSION__: JSON.stringify(version) },
};
