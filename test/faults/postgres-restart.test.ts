// Fault scenario 3: PostgreSQL restarts in the middle of a run. Activities
// fail and are retried by Temporal; the run completes; no lead is lost and
// only messages in flight when the database went away may repeat (same
// Message-ID); counters equal the records. The API answers 503 with a clear
// message while the database is away, and recovers by itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { buildApp } from '../../api/app';
import { loadConfig } from '../../config/config';
import { createApiKey } from '../../db/api-key-queries';
import { migrateUp, openOrm } from '../../db/orm';
import { createPool } from '../../db/pool';
import { emailSendConcurrency, repeatBound } from '../../domain/repeat-bound';
import { createInterface } from 'node:readline';
import { SmtpSink } from '../../dev/smtp-sink';
import { freePort } from '../support/stack-main';
import {
  repeatedDeliveries,
  resultWithin,
  seedSlowRun,
  startSeededRun,
  startWorkerProcess,
} from '../support/fault-fixtures';
import { uniqueSuffix, waitFor } from '../support/harness';
import { testLogFile } from '../support/test-log';

const root = join(__dirname, '..', '..');

interface RunningPostgres {
  url: string;
  stop(): Promise<void>;
}

/** Start (or restart, on the same data directory and port) PostgreSQL in its own process. */
async function startPostgres(dir: string, port: number): Promise<RunningPostgres> {
  const child = spawn(
    process.execPath,
    ['--require', 'tsx/cjs', join(root, 'test/support/pg-main.ts'), dir, String(port), 'restart'],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('PostgreSQL did not say it was ready within 60 s'));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`PostgreSQL exited with ${code} before it was ready`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('READY ')) {
        clearTimeout(timer);
        resolve(line.slice(6));
      }
    });
  });
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
const LEADS = 200;

test('when PostgreSQL restarts mid-run, then the API says 503 meanwhile, the run completes, and no lead is lost', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pg-restart-'));
  const port = await freePort();
  const tag = uniqueSuffix();
  const workerLog = testLogFile();
  const first = await startPostgres(dir, port);
  let pg: RunningPostgres | null = first;
  const orm = await openOrm(first.url, 2);
  await migrateUp(orm);
  await orm.close();
  const pool = createPool(first.url, 4);
  const sink = new SmtpSink({ port: 0 });
  const { url: smtpUrl } = await sink.start();
  const connection = await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
  const temporal = new Client({ connection });
  const config = {
    ...loadConfig({}),
    databaseUrl: first.url,
    temporalAddress: process.env.TEST_TEMPORAL_ADDRESS!,
  };
  const app = await buildApp({ pool, temporal, config, logger: pino({ level: 'silent' }) });
  let worker: ChildProcess | null = null;
  try {
    const { key } = await createApiKey(pool, 'restart', ['read']);
    // Slow enough (200 × 500 ms over 20 connections: 5 s at least) that the
    // run is still sending when the database has finished stopping.
    const run = await seedSlowRun(pool, sink, tag, LEADS, 500);
    const runId = run.runId;
    worker = startWorkerProcess(
      run,
      {
        DATABASE_URL: first.url,
        TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS!,
        SMTP_URL: smtpUrl,
      },
      workerLog,
    );
    const handle = await startSeededRun(temporal, run);

    await waitFor('the run to be under way', async () => sink.receivedCount() >= 40, 90_000, 20);
    await pg.stop();
    pg = null;
    const during = await app.inject({
      method: 'GET',
      url: `/v1/wizard-runs/${runId}`,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(during.statusCode).toBe(503);
    expect(during.json().message).toMatch(/database is not reachable/);
    // The outage lasts until the worker has felt it: a batch failed for want
    // of the database (Temporal records the failure and retries it).
    await waitFor(
      'an activity to fail while the database is away',
      async () => {
        const d = await handle.describe();
        return (d.raw.pendingActivities ?? []).some((a) => a.lastFailure);
      },
      180_000,
      100,
    );
    expect(worker.exitCode).toBeNull();
    pg = await startPostgres(dir, port);

    const result = await resultWithin(handle, 300_000, workerLog);
    expect(result).toMatchObject({ status: 'completed' });
    const after = await waitFor<any>(
      'the API to recover',
      async () => {
        const r = await app.inject({
          method: 'GET',
          url: `/v1/wizard-runs/${runId}`,
          headers: { authorization: `Bearer ${key}` },
        });
        return r.statusCode === 200 ? r.json() : null;
      },
      180_000,
    );
    expect(after.counters).toMatchObject({ sent: LEADS, delivered: LEADS, errors: 0 });
    const repeated = await repeatedDeliveries(pool, sink, runId, LEADS, { resendsRecorded: true });
    // At most what the batches in flight had sent without a durable record when the database went
    // away (domain/repeat-bound.ts): a batch stops sending at its first failed recording write.
    expect(repeated).toBeLessThanOrEqual(
      repeatBound({ sendConcurrency: emailSendConcurrency(5), batchesInFlight: 2 }),
    );
    // The worker lived through the outage: no process restart was needed.
    expect(worker.exitCode).toBeNull();
  } finally {
    worker?.kill('SIGKILL');
    await app.close();
    await connection.close();
    await sink.stop();
    await pool.end().catch(() => undefined);
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}, 900_000);
