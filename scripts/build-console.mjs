// Builds the operator console (console/src, Preact) into dist/console with
// esbuild: one script, one stylesheet and the page, everything the browser
// needs served by the API itself (no CDN, no outside host). Run by npm's
// postinstall step, by `npm start` and by the test suite's global setup, so
// nothing is built by hand.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'console');

export async function buildConsole() {
  mkdirSync(out, { recursive: true });
  // npm ci in the Dockerfile runs before the sources are copied: the image builds it in a later step.
  if (!existsSync(join(root, 'console', 'src', 'main.tsx'))) return null;
  await build({
    absWorkingDir: root,
    entryPoints: { app: 'console/src/main.tsx' },
    outdir: out,
    bundle: true,
    minify: true,
    sourcemap: 'linked',
    format: 'esm',
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: 'console/tsconfig.json',
    logLevel: 'warning',
  });
  copyFileSync(join(root, 'console', 'index.html'), join(out, 'index.html'));
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  buildConsole().then(
    (dir) =>
      console.log(dir ? `[build-console] built ${dir}` : '[build-console] no console sources here: skipped'),
    (err) => {
      console.error('[build-console]', err);
      process.exit(1);
    },
  );
}
