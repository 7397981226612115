// Shared set-up of the fault scenarios: a run of N slow recipients seeded
// straight into the database, a worker in its own process (so it can be
// killed), and the run's workflow started on that worker's queues.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Pool } from 'pg';
import type { SmtpSink } from '../../dev/smtp-sink';
import type { WizardRunInput, WizardRunSettings } from '../../workflows/wizard-run';
import { testLogFile } from './test-log';
import { withSendTokens } from '../../db/send-token';

const root = join(__dirname, '..', '..');

export interface SeededRun {
  runId: number;
  workflowId: string;
  queues: { TASK_QUEUE_WIZARD: string; TASK_QUEUE_EMAIL: string };
}

/** Leads whose mail the sink answers slowly, an email template and a reserved run targeting them. */
export async function seedSlowRun(
  pool: Pool,
  sink: SmtpSink,
  tag: string,
  leads: number,
  delayMs: number,
): Promise<SeededRun> {
  const emails = Array.from({ length: leads }, (_, i) => `f${i}.${tag}@example.test`);
  for (const e of emails) sink.script(e, { kind: 'slow', delayMs });
  const ids = (
    await pool.query<{ id: number }>(
      `INSERT INTO lead (name, email) SELECT 'L', unnest($1::text[]) RETURNING id`,
      [emails],
    )
  ).rows.map((r) => r.id);
  const tpl = (
    await pool.query(
      `INSERT INTO template (channel, title, email_format, subject, from_address, body_text)
       VALUES ('email', $1, 'text', 'Hi', 'news@example.test', 'Hello') RETURNING id`,
      [`Fault ${tag}`],
    )
  ).rows[0].id;
  const workflowId = `fault-${tag}`;
  const runId: number = (
    await pool.query(
      `INSERT INTO wizard_run (channel, template_id, template_title, target_kind, lead_ids, status, workflow_id)
       VALUES ('email', $1, $2, 'list', $3, 'reserved', $4) RETURNING id`,
      [tpl, `Fault ${tag}`, ids, workflowId],
    )
  ).rows[0].id;
  return {
    runId,
    workflowId,
    queues: { TASK_QUEUE_WIZARD: `fault-wizard-${tag}`, TASK_QUEUE_EMAIL: `fault-email-${tag}` },
  };
}

/**
 * `worker/main.ts` in its own process, on the seeded run's queues. Its output
 * (level `info`, and the Temporal SDK's lines) goes to `logFile`, by default
 * the test file's log, which is printed when a test of the file fails.
 */
export function startWorkerProcess(
  run: SeededRun,
  env: { DATABASE_URL: string; TEMPORAL_ADDRESS: string; SMTP_URL: string },
  logFile: string = testLogFile(),
): ChildProcess {
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', join(root, 'worker/main.ts')], {
    cwd: root,
    env: {
      ...process.env,
      ...env,
      ...run.queues,
      LOG_LEVEL: 'info',
      WORKER_METRICS_PORT: '0',
      // As the in-process harness: the seeded runs send from unregistered domains (issue 19 has its own tests).
      ALLOW_UNAUTHENTICATED_SENDING: '1',
    },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  return child;
}

/**
 * Start the seeded run's workflow: small batches, a short heartbeat timeout so
 * a dead worker's batch moves on fast, no bounce window unless `settings` says.
 */
export async function startSeededRun(
  client: Client,
  run: SeededRun,
  settings: Partial<WizardRunSettings> = {},
) {
  const input: WizardRunInput = {
    runId: run.runId,
    channel: 'email',
    scheduledAt: null,
    settings: {
      taskQueueSend: run.queues.TASK_QUEUE_EMAIL,
      batchSize: 20,
      batchesInFlight: 2,
      maxBatchesPerExecution: 500,
      asyncBounceWindowMs: 0,
      heartbeatTimeoutMs: 5000,
      ...settings,
    },
  };
  return client.workflow.start('wizardRunWorkflow', {
    taskQueue: run.queues.TASK_QUEUE_WIZARD,
    workflowId: run.workflowId,
    args: [input],
  });
}

/**
 * Every send of the run arrived at least once; the number that arrived more
 * than once (messages on the wire at a fault, resent under the same Message-ID).
 */
export async function repeatedDeliveries(
  pool: Pool,
  sink: SmtpSink,
  runId: number,
  expected: number,
  opts: { resendsRecorded?: boolean } = {},
): Promise<number> {
  const sends = await withSendTokens(
    pool,
    (
      await pool.query<{ id: string; token: string | null; result: string; resent: number }>(
        `SELECT s.id::text AS id, s.token, s.result,
                (SELECT count(*) FROM send_attempt a WHERE a.send_id = s.id AND a.resend_reason IS NOT NULL)::int AS resent
           FROM send s WHERE s.run_id = $1`,
        [runId],
      )
    ).rows,
    (r) => r.id,
  );
  if (sends.length !== expected) throw new Error(`expected ${expected} sends, found ${sends.length}`);
  let repeated = 0;
  for (const s of sends) {
    if (s.result !== 'delivered') throw new Error(`send ${s.token} is ${s.result}`);
    const copies = sink.messages.filter((m) => m.headers.get('x-send-token') === s.token);
    if (copies.length === 0) throw new Error(`send ${s.token} never reached the sink`);
    if (new Set(copies.map((m) => m.headers.get('message-id'))).size !== 1)
      throw new Error(`send ${s.token} arrived under two Message-IDs`);
    if (copies.length > 1) repeated++;
    // Every copy after the first is a recorded resend (README: what can be sent twice).
    if (opts.resendsRecorded && s.resent < copies.length - 1)
      throw new Error(`send ${s.token} arrived ${copies.length} times but records ${s.resent} resends`);
  }
  return repeated;
}

/**
 * The workflow's result, or — past `timeoutMs` — an error that says what the
 * run was waiting on (pending activities with their attempts and last
 * failures, and the tail of the worker's log), so a hang explains itself.
 */
export async function resultWithin<T>(
  handle: WorkflowHandle,
  timeoutMs: number,
  workerLog?: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const outcome = await Promise.race([handle.result() as Promise<T>, timeout]);
    if (outcome !== 'timeout') return outcome;
  } finally {
    clearTimeout(timer);
  }
  const d = await handle.describe();
  const pending = (d.raw.pendingActivities ?? []).map((a) => ({
    type: a.activityType?.name,
    state: a.state,
    attempt: a.attempt,
    lastFailure: a.lastFailure?.message,
    lastWorker: a.lastWorkerIdentity,
  }));
  const log =
    workerLog && existsSync(workerLog)
      ? readFileSync(workerLog, 'utf8').split('\n').slice(-40).join('\n')
      : '';
  throw new Error(
    `workflow ${handle.workflowId} still ${d.status.name} after ${timeoutMs} ms; ` +
      `pending activities: ${JSON.stringify(pending)}; history events: ${d.historyLength}\n` +
      `worker log tail:\n${log}`,
  );
}
