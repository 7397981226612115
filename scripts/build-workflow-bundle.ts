// Builds the worker's workflow bundle into .cache/workflow-bundle when the one
// there is missing or stale (worker/workflow-bundle.ts says when it is fresh).
// A worker builds it itself at start when needed (in a child process: this
// script); running it beforehand (the Dockerfile, the tests' global setup)
// only moves that work out of the start.
//
//   npx tsx scripts/build-workflow-bundle.ts [--force] [--dir DIR] [--quiet]
import { statSync } from 'node:fs';
import { buildWorkflowBundle, freshWorkflowBundle, workflowBundleDir } from '../worker/workflow-bundle';

async function main() {
  const args = process.argv.slice(2);
  const dirAt = args.indexOf('--dir');
  const dir = dirAt >= 0 && args[dirAt + 1] ? args[dirAt + 1]! : workflowBundleDir;
  const quiet = args.includes('--quiet');
  const fresh = args.includes('--force') ? null : freshWorkflowBundle(dir);
  const bundle = fresh ?? (await buildWorkflowBundle(dir));
  if (!quiet) {
    const size = (statSync(bundle.codePath).size / 1024 / 1024).toFixed(1);
    console.log(`workflow bundle ${fresh ? 'fresh' : 'built'}: ${bundle.codePath} (${size} MiB)`);
  }
}

main().catch((err: unknown) => {
  console.error('the workflow bundle could not be built:', err);
  process.exit(1);
});
