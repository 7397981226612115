// Where the Temporal CLI comes from, in the order the README promises:
// TEMPORAL_CLI_PATH, `temporal` on PATH, the project-local copy that
// `npm install` puts in .tools/venv (PyPI wheels), and last null, meaning
// "let the SDK download it" (works on a laptop with internet).
import { existsSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

const projectRoot = resolve(__dirname, '..');

function onPath(exe: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, exe);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

export function resolveTemporalCli(): string | null {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`TEMPORAL_CLI_PATH names ${fromEnv}, which does not exist`);
    return fromEnv;
  }
  return onPath('temporal') ?? localTool('temporal');
}

export function resolveTemporalTestServer(): string | null {
  const fromEnv = process.env.TEMPORAL_TEST_SERVER_PATH;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  return onPath('temporal-test-server') ?? localTool('temporal-test-server');
}

function localTool(exe: string): string | null {
  const p = join(projectRoot, '.tools', 'venv', 'bin', exe);
  return existsSync(p) ? p : null;
}
