// `npm run test:cluster`: the fault drills on the production shape
// (test/cluster/*.drill.ts). Not part of `npm test`: its own files' suffix, no
// global setup (each drill file starts the cluster it needs).
const base = require('./jest.config.js');
/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/test/cluster'],
  testMatch: ['**/*.drill.ts'],
  globalSetup: undefined,
  globalTeardown: undefined,
  testTimeout: 15 * 60_000,
};
