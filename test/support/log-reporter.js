// A Jest reporter: when a test file has a failing test (or fails to run), print
// the tail of that file's log (.test-logs/, written by test/support/test-log.ts)
// so the failure comes with what the worker and the API were doing, while
// passing files keep their INFO lines out of the output.
const { existsSync, readFileSync } = require('node:fs');
const { join, relative } = require('node:path');

const TAIL_LINES = 150;

/** The same mapping as logFileFor in test/support/test-log.ts. */
function logFileFor(rootDir, testPath) {
  return join(rootDir, '.test-logs', `${relative(rootDir, testPath).replace(/[\\/]/g, '__')}.log`);
}

class LogReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onTestResult(_test, result) {
    if (result.numFailingTests === 0 && !result.testExecError && !result.failureMessage) return;
    const file = logFileFor(this.rootDir, result.testFilePath);
    if (!existsSync(file)) return;
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const tail = lines.slice(-TAIL_LINES).join('\n');
    const skipped = lines.length > TAIL_LINES ? ` (last ${TAIL_LINES} of ${lines.length} lines)` : '';
    process.stderr.write(
      `\n── log of ${relative(this.rootDir, result.testFilePath)}: ${relative(this.rootDir, file)}${skipped}\n${tail}\n── end of log\n\n`,
    );
  }
}

module.exports = LogReporter;
