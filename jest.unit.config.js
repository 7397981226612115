// Pure unit tests (domain rules, parsers): no servers needed.
const base = require('./jest.config.js');
/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/test/unit'],
  globalSetup: undefined,
  globalTeardown: undefined,
};
