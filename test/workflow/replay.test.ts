// Workflow code that runs for days must stay replayable: the sample histories
// in test/fixtures/histories (recorded by `npm run capture-histories`) are
// replayed against the current workflow code, so a change that would break
// runs in flight fails the suite.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const files = readdirSync(join(root, 'test', 'fixtures', 'histories')).filter((f) => f.endsWith('.json'));

test('there are sample histories of every channel and every way a run moves or ends', () => {
  expect(files.map((f) => f.replace('.json', '')).sort()).toEqual([
    'async-report-then-cancelled', // listened for a report, then cancelled
    'cancelled-reserved', // cancelled while waiting for its time
    'completed', // email
    'continued-as-new-first', // the execution that continued as new ...
    'continued-as-new-last', // ... and the one that resumed from its cursors
    'line-completed',
    'line-error', // the official account went while the run was reserved
    'retried', // retry waves on durable timers
    'sms-completed',
    'sms-error-patched', // no SMS transport: ended in error through RUN_FAILURES_END_IN_ERROR
    'window-closed-final-sweep', // the bounce window closed through FINAL_REPORT_SWEEP
  ]);
});

test('when every sample history is replayed with the current workflow code, then none hits nondeterminism', async () => {
  const output = await new Promise<string>((resolve) => {
    execFile(
      process.execPath,
      ['--require', 'tsx/cjs', join(root, 'scripts', 'replay-histories.ts')],
      { cwd: root },
      (_err, stdout) => resolve(stdout),
    );
  });
  const results = output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { file: string; ok: boolean; error?: string });
  expect(results.map((r) => r.file).sort()).toEqual([...files].sort());
  for (const r of results) expect(r).toEqual({ file: r.file, ok: true });
}, 600_000);
