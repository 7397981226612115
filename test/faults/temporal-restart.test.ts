// Fault scenario 2: the Temporal server (dev server with a database file, so
// its state survives) restarts in the middle of a run. The worker reconnects,
// the run completes, no lead is lost, only messages in flight may repeat, and
// the counters equal the records.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createPool } from '../../db/pool';
import { SmtpSink } from '../../dev/smtp-sink';
import { startTemporalServer, type RunningTemporalServer } from '../../dev/temporal-server';
import { freePort } from '../support/stack-main';
import { uniqueSuffix, waitFor } from '../support/harness';

const root = join(__dirname, '..', '..');
const LEADS = 200;

jest.retryTimes(1, { logErrorsBeforeRetry: true });

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
    const emails = Array.from({ length: LEADS }, (_, i) => `tr${i}.${tag}@example.test`);
    for (const e of emails) sink.script(e, { kind: 'slow', delayMs: 20 });
    const ids = (
      await pool.query<{ id: number }>(
        `INSERT INTO lead (name, email) SELECT 'L', unnest($1::text[]) RETURNING id`,
        [emails],
      )
    ).rows.map((r) => r.id);
    const tpl = (
      await pool.query(
        `INSERT INTO template (channel, title, email_format, subject, from_address, body_text)
         VALUES ('email', 'TRestart', 'text', 'Hi', 'news@example.test', 'Hello') RETURNING id`,
      )
    ).rows[0].id;
    const workflowId = `temporal-restart-${tag}`;
    const runId: number = (
      await pool.query(
        `INSERT INTO wizard_run (channel, template_id, template_title, target_kind, lead_ids, status, workflow_id)
         VALUES ('email', $1, 'TRestart', 'list', $2, 'reserved', $3) RETURNING id`,
        [tpl, ids, workflowId],
      )
    ).rows[0].id;
    const queues = { TASK_QUEUE_WIZARD: `tr-wizard-${tag}`, TASK_QUEUE_EMAIL: `tr-email-${tag}` };
    worker = spawn(process.execPath, ['--require', 'tsx/cjs', join(root, 'worker/main.ts')], {
      cwd: root,
      env: {
        ...process.env,
        DATABASE_URL: process.env.TEST_DATABASE_URL_READY,
        TEMPORAL_ADDRESS: server.address,
        SMTP_URL: smtpUrl,
        ...queues,
        LOG_LEVEL: 'fatal',
        WORKER_METRICS_PORT: '0',
      },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });
    await client.workflow.start('wizardRunWorkflow', {
      taskQueue: queues.TASK_QUEUE_WIZARD,
      workflowId,
      args: [
        {
          runId,
          channel: 'email',
          scheduledAt: null,
          settings: {
            taskQueueSend: queues.TASK_QUEUE_EMAIL,
            batchSize: 20,
            batchesInFlight: 2,
            maxBatchesPerExecution: 500,
            asyncBounceWindowMs: 0,
            heartbeatTimeoutMs: 5000,
          },
        },
      ],
    });
    await waitFor('the run to be under way', async () => sink.receivedCount() >= 40, 90_000, 20);
    await server.stop();
    server = null;
    await new Promise((r) => setTimeout(r, 2000));
    server = await startTemporalServer({ port, uiPort: 0, dbFilename });

    const run = await waitFor(
      'the run to complete',
      async () => {
        const r = (await pool.query('SELECT * FROM wizard_run WHERE id = $1', [runId])).rows[0];
        return r.status === 'completed' ? r : null;
      },
      150_000,
      250,
    );
    expect(run).toMatchObject({ sent_count: LEADS, delivered_count: LEADS, error_count: 0 });
    const tokens = (await pool.query('SELECT token, result FROM send WHERE run_id = $1', [runId])).rows;
    expect(tokens).toHaveLength(LEADS);
    let repeated = 0;
    for (const t of tokens) {
      expect(t.result).toBe('delivered');
      const copies = sink.messages.filter((m) => m.headers.get('x-send-token') === t.token);
      expect(copies.length).toBeGreaterThanOrEqual(1);
      if (copies.length > 1) repeated++;
    }
    expect(repeated).toBeLessThanOrEqual(20);
  } finally {
    worker?.kill('SIGKILL');
    await connection?.close().catch(() => undefined);
    await sink.stop();
    await pool.end();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}, 300_000);
