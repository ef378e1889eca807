// Shared jest preset: native ESM, swc transform, workspace packages resolved from source so
// tests of one package never depend on another package's build output.
export function jestPreset(overrides = {}) {
  return {
    testEnvironment: 'node',
    extensionsToTreatAsEsm: ['.ts'],
    moduleNameMapper: {
      '^@bastion-mcp/([a-z-]+)$': '<rootDir>/../../packages/$1/src/index.ts',
      '^@bastion-mcp/([a-z-]+)/([a-z-]+)$': '<rootDir>/../../packages/$1/src/$2/index.ts',
      '^(\\.{1,2}/.*)\\.js$': '$1',
    },
    transform: {
      '^.+\\.ts$': [
        '@swc/jest',
        {
          jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
          module: { type: 'es6' },
          sourceMaps: 'inline',
        },
      ],
    },
    testMatch: ['<rootDir>/test/**/*.test.ts'],
    testTimeout: 30_000,
    ...overrides,
  };
}
