import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export default async function globalSetup() {
  const root = join(__dirname, '..', '..');
  // The console's files from console/src as they are now: the browser tests load what the API serves.
  execFileSync(process.execPath, [join(root, 'scripts', 'build-console.mjs')], { stdio: 'inherit' });
  // The workflow bundle as the sources are now, once, before the test files' workers look for it.
  execFileSync(
    process.execPath,
    ['--require', require.resolve('tsx/cjs'), join(root, 'scripts', 'build-workflow-bundle.ts'), '--quiet'],
    { stdio: 'inherit' },
  );
  const child = spawn(
    process.execPath,
    [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(__dirname, 'stack-main.ts')],
    {
      cwd: root,
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  (globalThis as { __testStack?: typeof child }).__testStack = child;
  const ready = await new Promise<{ databaseUrl: string; temporalAddress: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('test stack did not start within 180 s')), 180_000);
    child.once('exit', (code) => reject(new Error(`test stack exited with ${code} before it was ready`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('READY ')) return;
      clearTimeout(timer);
      resolve(JSON.parse(line.slice('READY '.length)));
    });
  });
  process.env.TEST_DATABASE_URL_READY = ready.databaseUrl;
  process.env.TEST_TEMPORAL_ADDRESS = ready.temporalAddress;
}
