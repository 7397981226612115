// Where the logs of one test file go: the in-process worker's and API's pino
// lines, the Temporal SDK's own (worker state changes, …) and the output of
// child worker processes, all in .test-logs/<test file path>.log at level
// info. They stay out of the test output; test/support/log-reporter.js prints
// the tail of a file's log when one of its tests fails.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { inspect } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import pino, { type Logger } from 'pino';
import { createLogger } from '../../observability/logger';

const root = join(__dirname, '..', '..');

/** The same mapping as logFileFor in test/support/log-reporter.js (which Jest loads untransformed). */
export function logFileFor(testPath: string): string {
  return join(root, '.test-logs', `${relative(root, testPath).replace(/[\\/]/g, '__')}.log`);
}

// Jest gives every test file its own module registry, so this is per file.
let opened: string | undefined;
let runtimeInstalled = false;

/** The current test file's log, emptied the first time it is asked for in this file. */
export function testLogFile(): string {
  const testPath = expect.getState().testPath;
  if (!testPath) throw new Error('testLogFile() is for code running inside a Jest test file');
  const file = logFileFor(testPath);
  if (opened !== file) {
    mkdirSync(join(root, '.test-logs'), { recursive: true });
    writeFileSync(file, '');
    opened = file;
  }
  return file;
}

/** A logger shaped like production's (observability/logger), writing to the test file's log. */
export function testLogger(name = 'test'): Logger {
  const destination = pino.destination({ dest: testLogFile(), sync: true, append: true });
  return createLogger(name, process.env.TEST_LOG_LEVEL ?? 'info', destination);
}

/**
 * Send the Temporal SDK's log (by default INFO lines on the console for every
 * worker state change) to the test file's log. Call before the first worker or
 * NativeConnection of the file; later calls do nothing.
 */
export function routeTemporalLogs(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const file = testLogFile();
  Runtime.install({
    // The SDK core's own (Rust) lines too, which otherwise go straight to stderr.
    telemetryOptions: { logging: { filter: { core: 'WARN', other: 'WARN' }, forward: {} } },
    logger: new DefaultLogger('INFO', (entry) => {
      const at = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
      const meta = entry.meta ? ` ${inspect(entry.meta, { breakLength: Infinity, depth: 4 })}` : '';
      appendFileSync(file, `${at} [temporal ${entry.level}] ${entry.message}${meta}\n`);
    }),
  });
}
