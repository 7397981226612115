// The default retry schedule runs for days; the time-skipping test server
// lets the suite watch every wave. Real activities, real PostgreSQL, a real
// SMTP sink: only the clock is skipped.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities/wizard-run-activities';
import { createEmailTransport } from '../../channels/email/transport';
import { createNoticeMailer } from '../../channels/email/notices';
import { createSenders } from '../../channels/registry';
import { loadConfig } from '../../config/config';
import { createPool } from '../../db/pool';
import { SmtpSink } from '../../dev/smtp-sink';
import { resolveTemporalTestServer } from '../../dev/temporal-binary';
import { workflowBundle } from '../../worker/create-workers';
import { wizardRunWorkflow, type WizardRunInput } from '../../workflows/wizard-run';
import { uniqueSuffix } from '../support/harness';
import { routeTemporalLogs, testLogger } from '../support/test-log';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

test('when a mailbox stays full, then the default schedule retries 5 times hourly and 4 times daily before 41606', async () => {
  routeTemporalLogs();
  const path = resolveTemporalTestServer();
  const env = await TestWorkflowEnvironment.createTimeSkipping(
    path ? { server: { executable: { type: 'existing-path', path } } } : undefined,
  );
  const pool = createPool(process.env.TEST_DATABASE_URL_READY!, 4);
  const sink = new SmtpSink({ port: 0 });
  const { url } = await sink.start();
  const email = createEmailTransport({ url, maxConnections: 2, maxMessages: 100 });
  try {
    const tag = uniqueSuffix();
    const address = `full+${tag}@example.test`;
    const leadId = (
      await pool.query(`INSERT INTO lead (name, email) VALUES ('Full', $1) RETURNING id`, [address])
    ).rows[0].id;
    const okId = (
      await pool.query(`INSERT INTO lead (name, email) VALUES ('Ok', $1) RETURNING id`, [
        `ok.${tag}@example.test`,
      ])
    ).rows[0].id;
    const tpl = (
      await pool.query(
        `INSERT INTO template (channel, title, email_format, subject, from_address, body_text)
         VALUES ('email', 'Waves', 'text', 'Hi', 'news@example.test', 'Hello') RETURNING id`,
      )
    ).rows[0].id;
    const runId = (
      await pool.query(
        `INSERT INTO wizard_run (channel, template_id, template_title, target_kind, lead_ids, status, workflow_id)
         VALUES ('email', $1, 'Waves', 'list', $2, 'reserved', $3) RETURNING id`,
        [tpl, [leadId, okId], `time-skipping-${tag}`],
      )
    ).rows[0].id;

    const taskQueue = `ts-${tag}`;
    const logger = testLogger('worker');
    const config = {
      ...loadConfig({}),
      bounceDomain: 'bounce.test',
      publicBaseUrl: 'http://localhost',
      notifyFrom: 'n@test',
      invalidAfterErrors: 3,
      smtpMaxConnections: 1,
    };
    const activities = createActivities({
      pool,
      logger,
      senders: createSenders({ pool, logger, config, transports: { email } }),
      notices: createNoticeMailer(email, config.bounceDomain, logger),
      settings: config,
    });
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities,
    });
    const input: WizardRunInput = {
      runId,
      channel: 'email',
      scheduledAt: null,
      settings: {
        taskQueueSend: taskQueue,
        batchSize: 10,
        batchesInFlight: 1,
        maxBatchesPerExecution: 500,
        asyncBounceWindowMs: 0,
      },
    };
    const handle = await env.client.workflow.start(wizardRunWorkflow, {
      taskQueue,
      workflowId: `time-skipping-${tag}`,
      args: [input],
    });
    const result = await worker.runUntil(handle.result());
    expect(result).toMatchObject({
      status: 'completed',
      counts: { sent: 2, delivered: 1, errors: 1 },
      waves: 9,
    });

    // The waves' timers, as the workflow history records them.
    const history = await handle.fetchHistory();
    const timers = (history.events ?? [])
      .map((e) => e.timerStartedEventAttributes?.startToFireTimeout?.seconds)
      .filter((s) => s !== undefined && s !== null)
      .map((s) => Number(s) * 1000);
    expect(timers).toHaveLength(9);
    timers.slice(0, 5).forEach((t) => expect(Math.abs(t - HOUR)).toBeLessThan(60_000));
    timers.slice(5).forEach((t) => expect(Math.abs(t - DAY)).toBeLessThan(60_000));

    const send = (await pool.query('SELECT * FROM send WHERE run_id = $1 AND lead_id = $2', [runId, leadId]))
      .rows[0];
    expect(send).toMatchObject({ result: 'error', code: 41606, attempts: 10, error_reason: 'mailbox_full' });
    const attempts = (
      await pool.query('SELECT code FROM send_attempt WHERE send_id = $1 ORDER BY attempt', [send.id])
    ).rows;
    expect(attempts.map((a) => a.code)).toEqual([...Array(9).fill(42552), 41606]);
    expect(sink.messagesTo(`ok.${tag}@example.test`)).toHaveLength(1);
    expect(sink.messagesTo(address)).toHaveLength(0);
  } finally {
    email.close();
    await sink.stop();
    await pool.end();
    await env.teardown();
  }
}, 600_000);
