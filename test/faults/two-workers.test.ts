// Scale-out (issue 17): a run served by two worker processes keeps as many send batches in flight
// per worker as one worker would have (domain/repeat-bound.ts runBatchesInFlight), so each worker's
// batches still share their commits; and the run still sends every target exactly once.
import type { ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { createPool } from '../../db/pool';
import { SmtpSink } from '../../dev/smtp-sink';
import { sendQueueWorkers } from '../../lifecycle/send-workers';
import {
  repeatedDeliveries,
  resultWithin,
  seedSlowRun,
  startSeededRun,
  startWorkerProcess,
} from '../support/fault-fixtures';
import { uniqueSuffix, waitFor } from '../support/harness';

const LEADS = 120;
const BATCH = 5;
const PER_WORKER = 2;

test('when two worker processes poll the send queue as a run is prepared, then the run keeps twice the batches in flight and sends every target once', async () => {
  const pool = createPool(process.env.TEST_DATABASE_URL_READY!, 4);
  const sink = new SmtpSink({ port: 0 });
  const { url: smtpUrl } = await sink.start();
  const connection = await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
  const client = new Client({ connection });
  const workers: ChildProcess[] = [];
  try {
    const run = await seedSlowRun(pool, sink, uniqueSuffix(), LEADS, 2);
    const env = {
      DATABASE_URL: process.env.TEST_DATABASE_URL_READY!,
      TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS!,
      SMTP_URL: smtpUrl,
    };
    workers.push(startWorkerProcess(run, env), startWorkerProcess(run, env));
    const count = sendQueueWorkers(client);
    await waitFor(
      'both workers to poll the send queue',
      async () => (await count(run.queues.TASK_QUEUE_EMAIL)) === 2,
      180_000,
      200,
    );

    const handle = await startSeededRun(client, run, {
      batchSize: BATCH,
      batchesInFlight: PER_WORKER,
      maxBatchesInFlight: 16,
    });
    expect(await resultWithin(handle, 300_000)).toMatchObject({ status: 'completed' });

    // The first batches are scheduled together, in the workflow task after the preparation.
    const events = (await handle.fetchHistory()).events ?? [];
    const batchIds = new Set<string>();
    let firstWave = 0;
    for (const e of events) {
      const scheduled = e.activityTaskScheduledEventAttributes;
      if (scheduled?.activityType?.name === 'sendRunBatch') {
        batchIds.add(String(e.eventId));
        firstWave++;
      }
      const done = e.activityTaskCompletedEventAttributes;
      if (done && batchIds.has(String(done.scheduledEventId))) break;
    }
    expect(firstWave).toBe(2 * PER_WORKER);

    expect(await repeatedDeliveries(pool, sink, run.runId, LEADS)).toBe(0);
    const row = (await pool.query('SELECT * FROM wizard_run WHERE id = $1', [run.runId])).rows[0];
    expect(row).toMatchObject({
      status: 'completed',
      sent_count: LEADS,
      delivered_count: LEADS,
      error_count: 0,
    });
  } finally {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    await connection.close();
    await sink.stop();
    await pool.end();
  }
}, 600_000);
