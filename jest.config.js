// Two projects: `unit` (pure logic, no cluster) and `integration` (real apiserver, real Docker).
// TypeScript is compiled by SWC and kept as ES modules; jest runs with --experimental-vm-modules.
/** @type {import('jest').Config} */

const common = {
  extensionsToTreatAsEsm: ['.ts', '.tsx'],
  // Sources import siblings as `./x.js` (NodeNext ESM); map them back to the .ts file.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.tsx?$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript', tsx: true }, target: 'es2023' },
        module: { type: 'es6' },
      },
    ],
  },
  testEnvironment: 'node',
  // Local state (etcd's own .snap files, images, agent state) and built binaries are not ours to crawl.
  modulePathIgnorePatterns: ['<rootDir>/.lattice/', '<rootDir>/bin/'],
};

const config = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/**/src/**/*.test.ts', '<rootDir>/console/server/**/*.test.ts', '<rootDir>/crds/**/*.test.ts'], testPathIgnorePatterns: ['/node_modules/'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'], globalSetup: '<rootDir>/test/support/global-setup.mjs' },
  ],
  // A global option (projects ignore it): integration tests wait on real clusters and containers,
  // each with its own deadline in waitFor; this is only the outer bound.
  testTimeout: 180_000,
};

export default config;
