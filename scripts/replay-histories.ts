// Replays every sample history in test/fixtures/histories against the current
// workflow code; prints one JSON line per history and exits non-zero on any
// failure. Run by test/workflow/replay.test.ts in its own Node process (Jest's
// module registry duplicates protobufjs, which the replayer's parser rejects).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Runtime, Worker } from '@temporalio/worker';
import { workflowBundle } from '../worker/create-workers';

async function main() {
  Runtime.install({
    logger: {
      log: () => undefined,
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    },
  });
  const dir = join(__dirname, '..', 'test', 'fixtures', 'histories');
  const bundle = await workflowBundle();
  let failed = 0;
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    try {
      await Worker.runReplayHistory(
        { workflowBundle: bundle },
        JSON.parse(readFileSync(join(dir, file), 'utf8')),
        file,
      );
      console.log(JSON.stringify({ file, ok: true }));
    } catch (err) {
      failed++;
      console.log(JSON.stringify({ file, ok: false, error: String(err) }));
    }
  }
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
