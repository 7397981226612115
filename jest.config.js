/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
    // A few dependencies ship ESM only; Jest's CommonJS runtime needs them transpiled.
    '^.+\\.m?js$': ['ts-jest', { diagnostics: false, tsconfig: { allowJs: true, module: 'commonjs' } }],
  },
  transformIgnorePatterns: [
    // @fastify/swagger-ui nests its own @fastify/static 10 with content-disposition 3 (ESM only).
    '/node_modules/(?!(@fastify/swagger-ui/node_modules/)?(content-disposition|cookie|@apidevtools/json-schema-ref-parser)/)',
  ],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // A bound for a hung test, not a speed requirement: the CI machine is shared and may be slow.
  testTimeout: 300000,
  // Each test file's worker and API logs go to .test-logs/; this prints a failing file's log.
  reporters: ['default', '<rootDir>/test/support/log-reporter.js'],
};
