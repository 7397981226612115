// The workflow bundle, built apart from the worker and loaded from a file
// (`workflowBundle: { codePath }`): webpack takes about 8 CPU-seconds and keeps
// a large heap, which a worker that bundled at start held for its whole life.
//
// The file is never stale: its manifest lists every file webpack read to build
// it and every path it looked for and did not find (webpack's own file and
// missing dependencies: the workflow sources, what they import, the SDK's
// workflow runtime). The bundle is fresh when the digest of those files'
// contents, with this module (the bundler's options) and the SDK's version,
// equals the manifest's, and none of the missing paths has appeared since;
// otherwise it is built again, in a child process (scripts/build-workflow-bundle.ts),
// so webpack's memory goes when that process exits.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, type WorkflowBundlePath } from '@temporalio/worker';

const root = join(__dirname, '..');
/** Where the bundle and its manifest live (per checkout; not in git). */
export const workflowBundleDir = join(root, '.cache', 'workflow-bundle');
const manifestName = 'manifest.json';
/** Bump when the manifest's form or the key's inputs change. */
const FORMAT = 1;

interface Manifest {
  format: number;
  key: string;
  code: string;
  files: string[];
  missing: string[];
}

/** The digest of the inputs, or null when one cannot be read or a missing path now exists. */
export function inputsKey(files: readonly string[], missing: readonly string[]): string | null {
  const hash = createHash('sha256');
  hash.update(`format ${FORMAT}\n`);
  hash.update(`sdk ${sdkVersion()}\n`);
  hash.update(readFileSync(__filename));
  for (const file of files) {
    let content: Buffer;
    try {
      content = readFileSync(file);
    } catch {
      return null;
    }
    hash.update(`\nfile ${file} ${content.length}\n`);
    hash.update(content);
  }
  for (const path of missing) {
    if (existsSync(path)) return null;
    hash.update(`\nmissing ${path}`);
  }
  return hash.digest('hex');
}

function sdkVersion(): string {
  const pkg = JSON.parse(readFileSync(require.resolve('@temporalio/worker/package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** The bundle's path when the one on disk is fresh, else null. */
export function freshWorkflowBundle(dir = workflowBundleDir): WorkflowBundlePath | null {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, manifestName), 'utf8')) as Manifest;
  } catch {
    return null;
  }
  if (manifest.format !== FORMAT) return null;
  const codePath = join(dir, manifest.code);
  if (!existsSync(codePath)) return null;
  return inputsKey(manifest.files, manifest.missing) === manifest.key ? { codePath } : null;
}

/**
 * Build the bundle in this process and write it with its manifest (each file
 * written aside and renamed, so a concurrent reader sees the old pair or the new).
 */
export async function buildWorkflowBundle(dir = workflowBundleDir): Promise<WorkflowBundlePath> {
  let files: string[] = [];
  let missing: string[] = [];
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    logger: quietBundlerLogger,
    webpackConfigHook: (config) => ({
      ...config,
      plugins: [
        ...(config.plugins ?? []),
        {
          apply(compiler) {
            compiler.hooks.done.tap('workflow-bundle-inputs', (stats) => {
              files = [...stats.compilation.fileDependencies];
              missing = [...stats.compilation.missingDependencies];
            });
          },
        },
      ],
    }),
  });
  // Webpack read some inputs from the bundler's in-memory volume (its generated entry point):
  // not files on disk, and made from the options in this module, which the key covers.
  files = [...new Set(files)].filter((f) => isFile(f)).sort();
  missing = [...new Set(missing)].filter((p) => !existsSync(p)).sort();
  const key = inputsKey(files, missing);
  if (!key) throw new Error('an input of the workflow bundle changed while it was built; build it again');
  mkdirSync(dir, { recursive: true });
  const codeName = `workflow-bundle-${key.slice(0, 16)}.js`;
  writeAside(join(dir, codeName), code);
  const manifest: Manifest = { format: FORMAT, key, code: codeName, files, missing };
  writeAside(join(dir, manifestName), JSON.stringify(manifest));
  removeOldBundles(dir, codeName);
  return { codePath: join(dir, codeName) };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function writeAside(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

/** Earlier bundles, an hour after they were replaced (a worker starting meanwhile may still load one). */
function removeOldBundles(dir: string, keep: string): void {
  const hourAgo = Date.now() - 3_600_000;
  for (const name of readdirSync(dir)) {
    if (name === keep || !name.startsWith('workflow-bundle-')) continue;
    const path = join(dir, name);
    try {
      if (statSync(path).mtimeMs < hourAgo) unlinkSync(path);
    } catch {
      // removed by another builder
    }
  }
}

/**
 * The fresh bundle's path; built first, in a child process, when the one on
 * disk is missing or stale. What every worker start uses (worker/main.ts,
 * npm start, the tests' harness).
 */
export async function workflowBundlePath(dir = workflowBundleDir): Promise<WorkflowBundlePath> {
  const fresh = freshWorkflowBundle(dir);
  if (fresh) return fresh;
  await buildInChild(dir);
  const built = freshWorkflowBundle(dir);
  if (!built) throw new Error(`the workflow bundle in ${dir} is not fresh after it was built`);
  return built;
}

function buildInChild(dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--require',
        require.resolve('tsx/cjs'),
        join(root, 'scripts', 'build-workflow-bundle.ts'),
        '--dir',
        dir,
        '--quiet',
      ],
      // Its standard output stays out of the worker's log; its errors go to the worker's standard error.
      { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0
        ? resolve()
        : reject(
            new Error(`building the workflow bundle failed (exit ${code ?? signal}); see the lines above`),
          ),
    );
  });
}

const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (m: string) => console.warn(m),
  error: (m: string) => console.error(m),
};
