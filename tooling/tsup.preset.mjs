// Shared tsup settings. Libraries: ESM + CJS + d.ts. Apps: ESM only, shebang kept.
export function libraryConfig(entry = { index: 'src/index.ts' }) {
  return {
    entry,
    tsconfig: 'tsconfig.build.json',
    format: ['esm', 'cjs'],
    dts: { compilerOptions: { ignoreDeprecations: '6.0' } },
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    splitting: false,
    treeshake: true,
  };
}

export function appConfig(entry) {
  return {
    entry,
    tsconfig: 'tsconfig.build.json',
    format: ['esm'],
    dts: false,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    splitting: false,
  };
}
