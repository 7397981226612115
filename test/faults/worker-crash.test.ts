// Fault scenario 1: kill -9 the worker in the middle of a run, start a new
// one: the run completes, no lead is lost, nothing already acknowledged is
// sent again (counted by the per-send token), and the counters equal the
// records. Messages on the wire at the instant of the kill are the protocol's
// ambiguous case: the relay may have taken them without our hearing the 250.
// We resend those (never lose mail) under the same Message-ID, so receivers
// can de-duplicate; their number is bounded by the messages in flight.
import type { ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { createPool } from '../../db/pool';
import { emailSendConcurrency, repeatBound } from '../../domain/repeat-bound';
import { SmtpSink } from '../../dev/smtp-sink';
import {
  repeatedDeliveries,
  resultWithin,
  seedSlowRun,
  startSeededRun,
  startWorkerProcess,
} from '../support/fault-fixtures';
import { uniqueSuffix, waitFor } from '../support/harness';
import { withSendTokens } from '../../db/send-token';

const LEADS = 240;

test('when the worker is killed with SIGKILL mid-run and another starts, then no lead is lost, only in-flight messages may repeat, and the counters match', async () => {
  const pool = createPool(process.env.TEST_DATABASE_URL_READY!, 4);
  const sink = new SmtpSink({ port: 0 });
  const { url: smtpUrl } = await sink.start();
  const connection = await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
  const client = new Client({ connection });
  const workers: ChildProcess[] = [];
  try {
    const run = await seedSlowRun(pool, sink, uniqueSuffix(), LEADS, 25);
    const env = {
      DATABASE_URL: process.env.TEST_DATABASE_URL_READY!,
      TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS!,
      SMTP_URL: smtpUrl,
    };
    workers.push(startWorkerProcess(run, env));
    const handle = await startSeededRun(client, run);
    await waitFor('the run to be under way', async () => sink.receivedCount() >= 50, 180_000, 20);
    const dead = new Promise((resolve) => workers[0]!.once('exit', resolve));
    workers[0]!.kill('SIGKILL');
    expect(sink.receivedCount()).toBeLessThan(LEADS);
    await dead;
    // What the dead worker had recorded as accepted by the relay (a Message-ID
    // or a result): the new worker must not send any of these again.
    const acknowledged = new Set(
      (
        await withSendTokens(
          pool,
          (
            await pool.query<{ id: string; token: string | null }>(
              `SELECT id::text AS id, token FROM send WHERE run_id = $1 AND (message_id IS NOT NULL OR result <> 'pending')`,
              [run.runId],
            )
          ).rows,
          (r) => r.id,
        )
      ).map((r) => r.token),
    );
    expect(acknowledged.size).toBeGreaterThan(0);

    workers.push(startWorkerProcess(run, env));
    expect(await resultWithin(handle, 300_000)).toMatchObject({ status: 'completed' });

    // At most what the batches in flight had sent without a durable record (domain/repeat-bound.ts),
    // and every repeat is a recorded resend.
    const bound = repeatBound({ sendConcurrency: emailSendConcurrency(5), batchesInFlight: 2 });
    const repeated = await repeatedDeliveries(pool, sink, run.runId, LEADS, { resendsRecorded: true });
    expect(repeated).toBeLessThanOrEqual(bound);
    // Only a message on the wire when the worker died can repeat: nothing it had recorded as accepted.
    const repeatedAcknowledged = [...acknowledged].filter(
      (token) => sink.messages.filter((m) => m.headers.get('x-send-token') === token).length > 1,
    );
    expect(repeatedAcknowledged).toEqual([]);
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
