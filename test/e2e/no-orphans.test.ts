// Nothing outlives its parent: `npm start` (dev/start.ts) and the test stack
// (test/support/stack-main.ts), stopped by SIGTERM as a supervisor does or
// killed with SIGKILL, leave no child behind (Temporal dev server, PostgreSQL)
// and every port they listened on is free again. (start:cluster: the last
// drill of test/cluster/drills.drill.ts.)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { waitFor } from '../support/harness';

const root = join(__dirname, '..', '..');

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function freeBlock(count: number): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
}

function tsx(script: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ['--require', 'tsx/cjs', join(root, script)], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Resolves with the first line of stdout or stderr matching `pattern`. */
function lineMatching(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let tail = '';
    const onLine = (line: string) => {
      tail = (tail + line + '\n').slice(-4000);
      if (pattern.test(line)) resolve(line);
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.once('exit', (code) => reject(new Error(`exited (${code}) before ${pattern}:\n${tail}`)));
  });
}

async function busyPorts(ports: number[]): Promise<number[]> {
  const busy: number[] = [];
  for (const p of ports) if (!(await portFree(p))) busy.push(p);
  return busy;
}

async function stopAndExpectPortsFree(child: ChildProcess, signal: NodeJS.Signals, ports: number[]) {
  expect(await busyPorts(ports)).not.toEqual([]);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
  // The children's own shutdown (PostgreSQL's fast stop, Temporal's) takes a moment.
  await waitFor('every port to be free', async () => (await busyPorts(ports)).length === 0, 60_000).catch(
    () => undefined,
  );
  expect(await busyPorts(ports)).toEqual([]);
}

describe.each(['SIGTERM', 'SIGKILL'] as const)('when the parent gets %s', (signal) => {
  test('then npm start (dev/start.ts) leaves no child and every port is free', async () => {
    const base = await freeBlock(7);
    const ports = {
      PORT: base,
      METRICS_PORT: base + 1,
      BOUNCE_SMTP_PORT: base + 2,
      TEMPORAL_DEV_PORT: base + 3,
      TEMPORAL_UI_PORT: base + 4,
      SMTP_SINK_PORT: base + 5,
      EMBEDDED_PG_PORT: base + 6,
    };
    const dataDir = mkdtempSync(join(tmpdir(), 'delivery-start-'));
    const child = tsx('dev/start.ts', {
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
      DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      DATABASE_URL: '',
      TEMPORAL_ADDRESS: '',
      SMTP_URL: '',
      SMPP_URL: '',
      LINE_API_BASE_URL: '',
    });
    try {
      await lineMatching(child, /ready: API on/);
      await stopAndExpectPortsFree(child, signal, Object.values(ports));
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 240_000);

  test('then the test stack (stack-main.ts) leaves no child and every port is free', async () => {
    const child = tsx('test/support/stack-main.ts', { TEST_DATABASE_URL: '' });
    try {
      const line = await lineMatching(child, /^READY /);
      const ready = JSON.parse(line.slice('READY '.length)) as {
        databaseUrl: string;
        temporalAddress: string;
      };
      const ports = [Number(new URL(ready.databaseUrl).port), Number(ready.temporalAddress.split(':').pop())];
      await stopAndExpectPortsFree(child, signal, ports);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 240_000);
});
