// One jest run over every project: `npm test` sums it into a single "N passed, N failed" line.
export default {
  projects: ['<rootDir>/packages/*/jest.config.mjs', '<rootDir>/apps/*/jest.config.mjs'],
};
