// Runs are never left silently stuck (issue 14, item 4): against the real API,
// Temporal server, PostgreSQL and SMTP sink.
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import pino from 'pino';
import { buildApp } from '../../api/app';
import { metricsText } from '../../observability/metrics';
import { findApiKey } from '../../db/api-key-queries';
import { RUN_SWEEP_SCHEDULE_ID, ensureRunSweepSchedule } from '../../lifecycle/run-sweep';
import type { Harness } from '../support/harness';
import { startHarness, uniqueSuffix, waitFor } from '../support/harness';
import { freePort } from '../support/stack-main';

let h: Harness;

/**
 * Holds the COMMIT of a run's creation until the run's workflow (if one was
 * already started) has closed, so a workflow that reads the row before it is
 * committed is caught every time, not only on a lucky schedule.
 */
async function holdCommitUntilWorkflowCloses(runId: number): Promise<void> {
  const handle = h.temporal.workflow.getHandle(`wizard-run-${runId}`);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      const d = await handle.describe();
      if (d.status.name !== 'RUNNING') return;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return;
      throw err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  h = await startHarness(
    {},
    { appHooks: { beforeRunCommit: (runId) => holdCommitUntilWorkflowCloses(runId) }, sms: false },
  );
});

afterAll(async () => {
  await h?.stop();
});

async function emailAudience(count: number) {
  const tag = uniqueSuffix();
  const leadIds: number[] = [];
  for (let i = 0; i < count; i++) {
    const res = await h.api('POST', '/v1/leads', { name: `L${i}`, email: `stuck${i}.${tag}@example.test` });
    expect(res.status).toBe(201);
    leadIds.push(res.body.id);
  }
  const template = await h.api('POST', '/v1/templates', {
    channel: 'email',
    title: `Stuck ${tag}`,
    format: 'text',
    subject: 'Hello',
    from: 'news@example.test',
    bodyText: 'Hi',
  });
  expect(template.status).toBe(201);
  return { tag, leadIds, templateId: template.body.id as number };
}

const runRow = async (id: number) =>
  (await h.pool.query('SELECT status, error_message, sent_count FROM wizard_run WHERE id = $1', [id]))
    .rows[0];

const FINAL = ['completed', 'error', 'cancelled'];

/** The run once it is final, or once its workflow closed while the row was not (stuck: nothing will move it). */
async function settled(runId: number) {
  return waitFor(
    `run ${runId} to be final or stuck`,
    async () => {
      const r = await runRow(runId);
      if (FINAL.includes(r.status)) return r;
      const d = await h.temporal.workflow.getHandle(`wizard-run-${runId}`).describe();
      if (d.status.name === 'RUNNING') return null;
      const again = await runRow(runId);
      return { ...again, workflow: d.status.name };
    },
    120_000,
  );
}

describe('creating a run', () => {
  test('when the COMMIT of the new run is slow, then the run still starts and every lead gets one mail', async () => {
    const { tag, leadIds, templateId } = await emailAudience(3);
    const created = await h.api('POST', '/v1/wizard-runs', { templateId, leadIds });
    expect(created.status).toBe(201);
    const runId: number = created.body.id;
    const final = await settled(runId);
    expect(final).toMatchObject({ status: 'completed', sent_count: 3 });
    for (let i = 0; i < 3; i++) expect(h.sink.messagesTo(`stuck${i}.${tag}@example.test`)).toHaveLength(1);
  });
});

/** A port nothing listens on. */
const closedPort = freePort;

describe('creating a run while the workflow service is unreachable', () => {
  test('when the workflow cannot be started, then the answer is 503 and the run shows error, never a silent reservation', async () => {
    const { templateId, leadIds } = await emailAudience(1);
    const connection = Connection.lazy({ address: `127.0.0.1:${await closedPort()}`, connectTimeout: '2s' });
    const app = await buildApp({
      pool: h.pool,
      temporal: new Client({ connection }),
      config: h.config,
      logger: pino({ level: 'silent' }),
    });
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/wizard-runs',
        headers: { authorization: `Bearer ${h.apiKey}` },
        payload: { templateId, leadIds },
      });
      expect(res.statusCode).toBe(503);
      expect(res.json().message).toMatch(/run \d+ was not started and will send nothing/);
      const runs = await h.pool.query('SELECT status, error_message FROM wizard_run WHERE template_id = $1', [
        templateId,
      ]);
      expect(runs.rows).toEqual([
        { status: 'error', error_message: expect.stringContaining('never started and sent nothing') },
      ]);
    } finally {
      await app.close();
      await connection.close().catch(() => undefined);
    }
  });
});

describe('a failure the run cannot recover from', () => {
  test('when the workers have no SMS transport, then an SMS run ends in error saying what to configure', async () => {
    const lead = await h.api('POST', '/v1/leads', { name: 'Taro', phones: { mobile: '090-1234-5678' } });
    expect(lead.status).toBe(201);
    const tpl = await h.api('POST', '/v1/templates', {
      channel: 'sms',
      title: `SMS ${uniqueSuffix()}`,
      smsBody: 'Hello',
    });
    expect(tpl.status).toBe(201);
    const created = await h.api('POST', '/v1/wizard-runs', {
      templateId: tpl.body.id,
      leadIds: [lead.body.id],
    });
    expect(created.status).toBe(201);
    const final = await settled(created.body.id);
    expect(final.status).toBe('error');
    expect(final.error_message).toContain('SMPP_URL');
    const shown = await h.api('GET', `/v1/wizard-runs/${created.body.id}`);
    expect(shown.body).toMatchObject({
      status: 'error',
      errorMessage: expect.stringContaining('SMS transport'),
    });
  });
});

describe('the consistency sweep', () => {
  const finalRow = (runId: number) =>
    waitFor(
      `run ${runId} to be final`,
      async () => {
        const r = await runRow(runId);
        return FINAL.includes(r.status) ? r : null;
      },
      120_000,
    );

  /** A run reserved an hour ahead (its workflow sleeps on the reservation timer), then its workflow terminated. */
  async function runWithTerminatedWorkflow(templateId: number, leadIds: number[], status: string) {
    const created = await h.api('POST', '/v1/wizard-runs', {
      templateId,
      leadIds,
      scheduledAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    expect(created.status).toBe(201);
    const id: number = created.body.id;
    await h.temporal.workflow.getHandle(`wizard-run-${id}`).terminate('operator terminated it');
    await h.pool.query(
      `UPDATE wizard_run SET status = $2, target_count = $3, updated_at = now() - interval '1 hour' WHERE id = $1`,
      [id, status, status === 'running' ? leadIds.length : 0],
    );
    return id;
  }

  test('when runs disagree with their workflows, then a triggered sweep repairs each and counts it, and expires day-old idempotency keys', async () => {
    // The worker created the schedule when it started.
    const existing = await h.temporal.schedule.getHandle(RUN_SWEEP_SCHEDULE_ID).describe();
    expect(existing.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: 'runConsistencySweepWorkflow',
    });
    expect(await ensureRunSweepSchedule(h.temporal, h.config.taskQueueWizard)).toBe('exists');

    const { tag, leadIds, templateId } = await emailAudience(2);
    const reservedTerminated = await runWithTerminatedWorkflow(templateId, [leadIds[0]!], 'reserved');
    const runningTerminated = await runWithTerminatedWorkflow(templateId, [leadIds[0]!], 'running');
    // A run whose API process stopped between COMMIT and starting the workflow: a row and no workflow.
    const neverStarted: number = (
      await h.pool.query(
        `INSERT INTO wizard_run (channel, template_id, template_title, target_kind, lead_ids, status, workflow_id, updated_at)
         VALUES ('email', $1, 'never started', 'list', $2, 'reserved', $3, now() - interval '1 hour') RETURNING id`,
        [templateId, [leadIds[1]], `pending-${uniqueSuffix()}`],
      )
    ).rows[0].id;
    await h.pool.query(`UPDATE wizard_run SET workflow_id = 'wizard-run-' || id WHERE id = $1`, [
      neverStarted,
    ]);

    // Idempotency keys go with the same sweep once past their retention (24 h).
    const apiKeyId = (await findApiKey(h.pool, h.apiKey))!.id;
    const idem = (key: string, hoursAgo: number) =>
      h.pool.query(
        `INSERT INTO idempotency_key (api_key_id, key, route, request_hash, status_code, response_body, created_at, completed_at)
         VALUES ($1, $2, 'POST /v1/messages', 'h', 201, '{}', now() - make_interval(hours => $3), now() - make_interval(hours => $3))`,
        [apiKeyId, key, hoursAgo],
      );
    const tagKey = uniqueSuffix();
    await idem(`old-${tagKey}`, 25);
    await idem(`new-${tagKey}`, 23);

    // The schedule was created by whichever worker started first; point it at this test's queue and trigger it.
    await h.temporal.schedule.getHandle(RUN_SWEEP_SCHEDULE_ID).delete();
    expect(await ensureRunSweepSchedule(h.temporal, h.config.taskQueueWizard)).toBe('created');
    await h.temporal.schedule.getHandle(RUN_SWEEP_SCHEDULE_ID).trigger();

    const a = await finalRow(reservedTerminated);
    expect(a.status).toBe('error');
    expect(a.error_message).toMatch(
      /workflow ended \(terminated\) before the run started, so nothing was sent/,
    );
    const b = await finalRow(runningTerminated);
    expect(b.status).toBe('error');
    expect(b.error_message).toMatch(/while the run was running, after 0 of 1 sent; create a new run/);
    const c = await finalRow(neverStarted);
    expect(c).toMatchObject({ status: 'completed', sent_count: 1 });
    expect(h.sink.messagesTo(`stuck1.${tag}@example.test`)).toHaveLength(1);
    expect(h.sink.messagesTo(`stuck0.${tag}@example.test`)).toHaveLength(0);

    const keys = await waitFor('the sweep to expire old idempotency keys', async () => {
      const r = await h.pool.query('SELECT key FROM idempotency_key WHERE key LIKE $1 ORDER BY key', [
        `%-${tagKey}`,
      ]);
      return r.rows.length < 2 ? r.rows.map((x) => x.key) : null;
    });
    expect(keys).toEqual([`new-${tagKey}`]);

    const metrics = await metricsText();
    const count = (repair: string) =>
      Number(
        new RegExp(`delivery_run_sweep_repairs_total\\{repair="${repair}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0,
      );
    expect(count('error')).toBeGreaterThanOrEqual(2);
    expect(count('start')).toBeGreaterThanOrEqual(1);
  });
});
