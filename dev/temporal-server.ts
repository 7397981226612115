// Starts a Temporal dev server (with web UI) for `npm start` and the tests.
// A binary we can resolve is spawned directly, so we own its lifecycle (and the
// fault tests can kill and restart it); with none, the SDK downloads one.
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { resolveTemporalCli } from './temporal-binary';
import { tieToThisProcess } from './reaper';
import { SEARCH_ATTRIBUTE_DEFINITIONS } from '../workflows/search-attributes';

export interface TemporalServerOptions {
  port: number;
  /** 0 disables the UI. */
  uiPort: number;
  /** Persist state across restarts (SQLite file); in-memory when absent. */
  dbFilename?: string;
  ip?: string;
  log?: (line: string) => void;
}

export interface RunningTemporalServer {
  address: string;
  uiUrl: string | null;
  stop(): Promise<void>;
  /** The spawned process, when we own it (absent for SDK-managed servers). */
  process?: ChildProcess;
}

export async function startTemporalServer(opts: TemporalServerOptions): Promise<RunningTemporalServer> {
  const ip = opts.ip ?? '127.0.0.1';
  const cli = resolveTemporalCli();
  const searchAttributes = SEARCH_ATTRIBUTE_DEFINITIONS.map(([k, v]) => `${k}=${v}`);
  if (!cli) return startWithSdkDownload(opts, ip);

  const args = ['server', 'start-dev', '--ip', ip, '--port', String(opts.port), '--log-level', 'warn'];
  if (opts.uiPort > 0) args.push('--ui-port', String(opts.uiPort), '--ui-ip', ip);
  else args.push('--headless');
  if (opts.dbFilename) args.push('--db-filename', opts.dbFilename);
  for (const sa of searchAttributes) args.push('--search-attribute', sa);
  // Workflow task timeouts and the like are fine by default; allow long-running
  // test histories to stay readable.
  const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // It ends with us, even if we are killed with SIGKILL (dev/reaper.ts).
  tieToThisProcess(child.pid);
  const log = opts.log ?? (() => undefined);
  child.stdout?.on('data', (d: Buffer) => log(d.toString().trimEnd()));
  child.stderr?.on('data', (d: Buffer) => log(d.toString().trimEnd()));
  let exited = false;
  child.once('exit', () => (exited = true));

  await waitForPort(ip, opts.port, 60_000, () => exited);
  // The frontend accepts connections slightly before namespaces are ready.
  await waitForNamespace(`${ip}:${opts.port}`, 30_000);
  return {
    address: `${ip}:${opts.port}`,
    uiUrl: opts.uiPort > 0 ? `http://${ip === '0.0.0.0' ? 'localhost' : ip}:${opts.uiPort}` : null,
    process: child,
    stop: () => stopChild(child),
  };
}

async function startWithSdkDownload(opts: TemporalServerOptions, ip: string): Promise<RunningTemporalServer> {
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      ip,
      port: opts.port,
      ui: opts.uiPort > 0,
      uiPort: opts.uiPort > 0 ? opts.uiPort : undefined,
      dbFilename: opts.dbFilename,
      extraArgs: SEARCH_ATTRIBUTE_DEFINITIONS.flatMap(([k, v]) => ['--search-attribute', `${k}=${v}`]),
    },
  });
  return {
    address: `${ip}:${opts.port}`,
    uiUrl: opts.uiPort > 0 ? `http://${ip}:${opts.uiPort}` : null,
    stop: () => env.teardown(),
  };
}

export function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function waitForPort(
  host: string,
  port: number,
  timeoutMs: number,
  gaveUp: () => boolean = () => false,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gaveUp()) throw new Error(`process listening on ${host}:${port} exited before it was ready`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = createConnection({ host, port });
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function waitForNamespace(address: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  const connection = await Connection.connect({ address });
  try {
    for (;;) {
      try {
        await connection.workflowService.describeNamespace({ namespace: 'default' });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } finally {
    await connection.close();
  }
}
