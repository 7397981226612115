// The real Temporal server and its SQL schema tool, built from the Go module
// proxy into .tools/ once (about 4.5 minutes, 160 MB) and reused after.
// go.temporal.io/server v1.32.2 needs Go >= 1.26.10: GOTOOLCHAIN fetches a
// newer toolchain from the same proxy when the installed go is older.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const TEMPORAL_SERVER_VERSION = 'v1.32.2';
export const GO_TOOLCHAIN = 'go1.27.3';

const root = resolve(__dirname, '..', '..');

export interface TemporalTools {
  /** go.temporal.io/server/cmd/server */
  server: string;
  /** go.temporal.io/server/cmd/tools/sql (temporal-sql-tool) */
  sql: string;
}

export function temporalToolsDir(): string {
  return (
    process.env.TEMPORAL_SERVER_TOOLS_DIR ??
    join(root, '.tools', `temporal-${TEMPORAL_SERVER_VERSION.slice(1)}`)
  );
}

export function builtTemporalTools(): TemporalTools | null {
  const bin = join(temporalToolsDir(), 'bin');
  const tools = { server: join(bin, 'server'), sql: join(bin, 'sql') };
  return existsSync(tools.server) && existsSync(tools.sql) ? tools : null;
}

/** The built tools, building them first if they are not there yet. */
export async function ensureTemporalTools(log: (line: string) => void): Promise<TemporalTools> {
  const built = builtTemporalTools();
  if (built) return built;
  const dir = temporalToolsDir();
  const staging = join(dir, `bin.building-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  log(
    `building the Temporal server ${TEMPORAL_SERVER_VERSION} and its schema tool from the Go module proxy ` +
      `(${GO_TOOLCHAIN}; a few minutes, once) into ${dir}`,
  );
  const started = Date.now();
  await new Promise<void>((resolvePromise, reject) => {
    const go = spawn(
      'go',
      [
        'install',
        `go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION}`,
        `go.temporal.io/server/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`,
      ],
      {
        env: { ...process.env, GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? GO_TOOLCHAIN, GOBIN: staging },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let tail = '';
    const keep = (d: Buffer) => (tail = (tail + d.toString()).slice(-4000));
    go.stdout.on('data', keep);
    go.stderr.on('data', keep);
    go.once('error', reject);
    go.once('exit', (code) =>
      code === 0 ? resolvePromise() : reject(new Error(`go install failed (${code}):\n${tail}`)),
    );
  });
  // In place at once, so a concurrent or interrupted build never leaves half a tool.
  const bin = join(dir, 'bin');
  rmSync(bin, { recursive: true, force: true });
  renameSync(staging, bin);
  log(`built in ${Math.round((Date.now() - started) / 1000)} s`);
  return builtTemporalTools()!;
}
