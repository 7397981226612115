// Fault scenario 2: the Temporal server (dev server with a database file, so
// its state survives) restarts in the middle of a run. The worker reconnects,
// the run completes, no lead is lost, only messages in flight may repeat, and
// the counters equal the records.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createPool } from '../../db/pool';
import { SmtpSink } from '../../dev/smtp-sink';
import { startTemporalServer, type RunningTemporalServer } from '../../dev/temporal-server';
import { freePort } from '../support/stack-main';
import {
  repeatedDeliveries,
  seedSlowRun,
  startSeededRun,
  startWorkerProcess,
} from '../support/fault-fixtures';
import { uniqueSuffix, waitFor } from '../support/harness';

const LEADS = 200;

test('when the Temporal server restarts mid-run, then the run completes and no lead is lost', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'temporal-restart-'));
  const port = await freePort();
  const dbFilename = join(dir, 'temporal.db');
  let server: RunningTemporalServer | null = await startTemporalServer({ port, uiPort: 0, dbFilename });
  const tag = uniqueSuffix();
  const pool = createPool(process.env.TEST_DATABASE_URL_READY!, 4);
  const sink = new SmtpSink({ port: 0 });
  const { url: smtpUrl } = await sink.start();
  let worker: ChildProcess | null = null;
  let connection: Connection | null = null;
  try {
    // Slow enough (200 × 500 ms over 20 connections: 5 s at least) that the
    // run is still sending when the server has finished stopping.
    const run = await seedSlowRun(pool, sink, tag, LEADS, 500);
    const runId = run.runId;
    worker = startWorkerProcess(run, {
      DATABASE_URL: process.env.TEST_DATABASE_URL_READY!,
      TEMPORAL_ADDRESS: server.address,
      SMTP_URL: smtpUrl,
    });
    connection = await Connection.connect({ address: server.address });
    await startSeededRun(new Client({ connection }), run);
    await waitFor('the run to be under way', async () => sink.receivedCount() >= 40, 180_000, 20);
    // stop() returns once the server process has exited: the outage is the restart itself.
    await server.stop();
    server = null;
    expect(sink.receivedCount()).toBeLessThan(LEADS);
    server = await startTemporalServer({ port, uiPort: 0, dbFilename });

    const row = await waitFor(
      'the run to complete',
      async () => {
        const r = (await pool.query('SELECT * FROM wizard_run WHERE id = $1', [runId])).rows[0];
        return r.status === 'completed' ? r : null;
      },
      400_000,
      250,
    );
    expect(row).toMatchObject({ sent_count: LEADS, delivered_count: LEADS, error_count: 0 });
    const repeated = await repeatedDeliveries(pool, sink, runId, LEADS);
    expect(repeated).toBeLessThanOrEqual(20);
  } finally {
    worker?.kill('SIGKILL');
    await connection?.close().catch(() => undefined);
    await sink.stop();
    await pool.end();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}, 900_000);
