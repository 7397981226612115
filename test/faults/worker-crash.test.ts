// Fault scenario 1: kill -9 the worker in the middle of a run, start a new
// one: the run completes, no lead is lost, nothing already acknowledged is
// sent again (counted by the per-send token), and the counters equal the
// records. Messages on the wire at the instant of the kill are the protocol's
// ambiguous case: the relay may have taken them without our hearing the 250.
// We resend those (never lose mail) under the same Message-ID, so receivers
// can de-duplicate; their number is bounded by the messages in flight.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createPool } from '../../db/pool';
import { SmtpSink } from '../../dev/smtp-sink';
import { startWizardRun } from '../../workflows/wizard-run-client';
import { uniqueSuffix, waitFor } from '../support/harness';

const root = join(__dirname, '..', '..');
const LEADS = 240;

function startWorker(env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ['--require', 'tsx/cjs', join(root, 'worker/main.ts')], {
    cwd: root,
    env: { ...process.env, ...env, LOG_LEVEL: 'error' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

test('when the worker is killed with SIGKILL mid-run and another starts, then no lead is lost, only in-flight messages may repeat, and the counters match', async () => {
  const tag = uniqueSuffix();
  const pool = createPool(process.env.TEST_DATABASE_URL_READY!, 4);
  const sink = new SmtpSink({ port: 0 });
  const { url: smtpUrl } = await sink.start();
  const connection = await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
  const client = new Client({ connection });
  const workers: ChildProcess[] = [];
  try {
    const emails = Array.from({ length: LEADS }, (_, i) => `crash${i}.${tag}@example.test`);
    for (const e of emails) sink.script(e, { kind: 'slow', delayMs: 25 });
    const ids = (
      await pool.query<{ id: number }>(
        `INSERT INTO lead (name, email) SELECT 'L', unnest($1::text[]) RETURNING id`,
        [emails],
      )
    ).rows.map((r) => r.id);
    const tpl = (
      await pool.query(
        `INSERT INTO template (channel, title, email_format, subject, from_address, body_text)
         VALUES ('email', 'Crash', 'text', 'Hi', 'news@example.test', 'Hello') RETURNING id`,
      )
    ).rows[0].id;
    const runId: number = (
      await pool.query(
        `INSERT INTO wizard_run (channel, template_id, template_title, target_kind, lead_ids, status, workflow_id)
         VALUES ('email', $1, 'Crash', 'list', $2, 'reserved', 'pending') RETURNING id`,
        [tpl, ids],
      )
    ).rows[0].id;
    await pool.query(`UPDATE wizard_run SET workflow_id = 'wizard-run-' || id WHERE id = $1`, [runId]);

    const env = {
      DATABASE_URL: process.env.TEST_DATABASE_URL_READY,
      TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
      SMTP_URL: smtpUrl,
      TASK_QUEUE_WIZARD: `crash-wizard-${tag}`,
      TASK_QUEUE_EMAIL: `crash-email-${tag}`,
    };
    workers.push(startWorker(env));
    await startWizardRun(
      client,
      env.TASK_QUEUE_WIZARD,
      {
        runId,
        channel: 'email',
        scheduledAt: null,
        settings: {
          taskQueueSend: env.TASK_QUEUE_EMAIL,
          batchSize: 20,
          batchesInFlight: 3,
          maxBatchesPerExecution: 500,
          asyncBounceWindowMs: 0,
          heartbeatTimeoutMs: 4000,
        },
      },
      'reserved',
    );
    await waitFor('the run to be under way', async () => sink.receivedCount() >= 50, 90_000, 20);
    workers[0]!.kill('SIGKILL');
    const killedAt = Date.now();
    const atKill = sink.receivedCount();
    expect(atKill).toBeLessThan(LEADS);

    workers.push(startWorker(env));
    const result = await client.workflow.getHandle(`wizard-run-${runId}`).result();
    expect(result).toMatchObject({ status: 'completed' });

    const sends = (await pool.query('SELECT token, address, result FROM send WHERE run_id = $1', [runId]))
      .rows;
    expect(sends).toHaveLength(LEADS);
    let repeated = 0;
    for (const s of sends) {
      expect(s.result).toBe('delivered');
      const copies = sink.messages.filter((m) => m.headers.get('x-send-token') === s.token);
      expect(copies.length).toBeGreaterThanOrEqual(1);
      if (copies.length > 1) {
        repeated++;
        // A resend is the same message: same Message-ID, so a receiver can drop the copy.
        expect(new Set(copies.map((m) => m.headers.get('message-id'))).size).toBe(1);
        // Only a message on the wire when the worker died can repeat.
        expect(copies[0]!.receivedAt.getTime()).toBeGreaterThanOrEqual(killedAt - 2000);
      }
    }
    // Messages in flight at most: the send concurrency (2 × 5 connections) per batch × 3 batches.
    expect(repeated).toBeLessThanOrEqual(30);
    const run = (await pool.query('SELECT * FROM wizard_run WHERE id = $1', [runId])).rows[0];
    expect(run).toMatchObject({
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
}, 180_000);
