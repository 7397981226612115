// The production shape for the fault drills: `dev/cluster/main.ts` (what
// `npm run start:cluster` runs) as a child process on a block of free ports,
// with an SMTP sink here in the test process standing in for the relay and
// counting every message by its per-send token and Message-ID.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SmtpSink } from '../../dev/smtp-sink';

const root = join(__dirname, '..', '..');
/** Ports the cluster takes from its base (dev/cluster/main.ts, ports()). */
export const CLUSTER_PORTS = 15;

export interface ClusterReady {
  apiUrl: string;
  temporalAddress: string;
  databaseUrl: string;
  appPgDataDir: string;
  logDir: string;
  ports: Record<string, number>;
}

export interface RunningCluster {
  process: ChildProcess;
  ready: ClusterReady;
  portBase: number;
  /** The current pid of each supervised process, by name (worker-1, app-pg, temporal, …). */
  pids: Map<string, number>;
  /** Resolves with the pid of the next start of `name`. */
  nextStart(name: string): Promise<number>;
}

export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A base such that base … base+count-1 are all free now. */
export async function freePortBlock(count: number): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    // Below 32768: Temporal stores its membership ports as smallint.
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error('no block of free ports');
}

export async function startCluster(env: NodeJS.ProcessEnv, workers = 2): Promise<RunningCluster> {
  const portBase = await freePortBlock(CLUSTER_PORTS + 1);
  const dataDir = mkdtempSync(join(tmpdir(), 'delivery-cluster-'));
  const child = spawn(
    process.execPath,
    [
      '--require',
      'tsx/cjs',
      join(root, 'dev/cluster/main.ts'),
      '--workers',
      String(workers),
      '--port-base',
      String(portBase),
      '--data-dir',
      dataDir,
    ],
    {
      cwd: root,
      // The drills send from a domain that is not registered (issue 19 is tested elsewhere).
      env: { ...process.env, ALLOW_UNAUTHENTICATED_SENDING: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const pids = new Map<string, number>();
  const waiters: Array<{ name: string; resolve: (pid: number) => void }> = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
  const ready = await new Promise<ClusterReady>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`cluster not ready after 15 min:\n${stderr}`)),
      15 * 60_000,
    );
    child.once('exit', (code) =>
      reject(new Error(`cluster exited (${code}) before it was ready:\n${stderr}`)),
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const [kind, name, pid] = line.split(' ');
      if (kind === 'START' && name && pid) {
        pids.set(name, Number(pid));
        for (const w of waiters.filter((x) => x.name === name)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(Number(pid));
        }
      }
      if (kind === 'READY') {
        clearTimeout(timer);
        resolve(JSON.parse(line.slice('READY '.length)) as ClusterReady);
      }
    });
  });
  return {
    process: child,
    ready,
    portBase,
    pids,
    nextStart: (name) => new Promise((resolve) => waiters.push({ name, resolve })),
  };
}

/** What the relay received: per send token, the copies and their Message-IDs. */
export class CountingRelay {
  readonly copies = new Map<string, { count: number; messageIds: Set<string> }>();
  total = 0;
  private sink: SmtpSink | null = null;

  constructor(readonly port: number) {}

  async start(): Promise<string> {
    this.sink = new SmtpSink({ port: this.port, keepMessages: 0 });
    this.sink.onMessage((m) => {
      this.total++;
      const token = m.headers.get('x-send-token') ?? '';
      const entry = this.copies.get(token) ?? { count: 0, messageIds: new Set<string>() };
      entry.count++;
      entry.messageIds.add(m.headers.get('message-id') ?? '');
      this.copies.set(token, entry);
    });
    const { url } = await this.sink.start();
    return url;
  }

  async stop(): Promise<void> {
    await this.sink?.stop();
    this.sink = null;
  }
}
