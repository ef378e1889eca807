// One jest run over every project: `npm test` sums it into a single "N passed, N failed" line.
// `testTimeout` is a global option (ignored inside `projects`), so it is set here as well as in the preset.
export default {
  testTimeout: 30_000,
  projects: ['<rootDir>/packages/*/jest.config.mjs', '<rootDir>/apps/*/jest.config.mjs'],
};
