// Reports that arrive after the receiving server accepted a message (SPEC 4)
// reach the run's workflow by signal during its asynchronous-bounce window,
// and are applied directly once the window has closed.
import { notifyRunOfReports } from '../../inbound/run-signal';
import { seedSlowRun, startSeededRun } from '../support/fault-fixtures';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';
import { mailText } from '../support/mail-text';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ asyncBounceWindowSeconds: 120 });
});

afterAll(async () => {
  await h?.stop();
});

async function deliveredRun(count: number) {
  const tag = uniqueSuffix();
  const ids: number[] = [];
  for (let i = 0; i < count; i++)
    ids.push(
      (await h.api('POST', '/v1/leads', { name: `L${i}`, email: `r${i}.${tag}@example.test` })).body.id,
    );
  const tpl = await h.api('POST', '/v1/templates', {
    channel: 'email',
    title: `Async ${tag}`,
    subject: 'Hi',
    from: 'news@example.test',
    bodyText: 'Hello',
    errorReplyTo: `errors.${tag}@example.test`,
  });
  const created = await h.api('POST', '/v1/wizard-runs', { templateId: tpl.body.id, leadIds: ids });
  const run = await waitFor('completion', async () => {
    const r = (await h.api('GET', `/v1/wizard-runs/${created.body.id}`)).body;
    return r.status === 'completed' ? r : null;
  });
  const sends = (await h.pool.query('SELECT * FROM send WHERE run_id = $1 ORDER BY lead_id', [run.id])).rows;
  return { run, sends, tag, ids };
}

async function storeReport(send: any, action: 'bounce' | 'complaint', fingerprint = uniqueSuffix()) {
  await h.pool.query(
    `INSERT INTO inbound_report (received_at, fingerprint, kind, status, send_id, run_id, action, remote_text, error_type, error_reason, raw)
     VALUES (now(), $1, $2, 'pending', $3, $4, $5, $6, 'hard', 'unknown_user', 'raw report')`,
    [
      fingerprint,
      action === 'bounce' ? 'dsn' : 'arf',
      send.id,
      send.run_id,
      action,
      '550 5.1.1 <x>: user unknown',
    ],
  );
}

test('when a bounce arrives during the window, then the workflow applies it: 90000, counters, validity and a notice', async () => {
  const { run, sends, tag } = await deliveredRun(3);
  const handle = h.temporal.workflow.getHandle(run.taskId);
  expect((await handle.describe()).status.name).toBe('RUNNING'); // listening

  await storeReport(sends[0], 'bounce');
  expect(await notifyRunOfReports(h.temporal, h.pool, run.id, 3)).toBe('signalled');
  const after = await waitFor('the bounce to apply', async () => {
    const r = (await h.api('GET', `/v1/wizard-runs/${run.id}`)).body;
    return r.counters.errors === 1 ? r : null;
  });
  expect(after.status).toBe('completed');
  expect(after.counters).toMatchObject({ sent: 3, delivered: 2, errors: 1 });
  const send = (await h.api('GET', `/v1/sends/${sends[0].id}`)).body;
  expect(send).toMatchObject({
    result: 'error',
    code: 90000,
    detail: '550 5.1.1 <x>: user unknown',
    errorType: 'hard',
  });
  expect((await h.api('GET', `/v1/leads/${sends[0].lead_id}`)).body.emailErrorCount).toBe(1);
  await waitFor('the notice', async () => h.sink.messagesTo(`errors.${tag}@example.test`).length === 1);
  expect(await mailText(h.sink.messagesTo(`errors.${tag}@example.test`)[0]!)).toContain(sends[0].address);

  // The same report delivered again changes nothing.
  await expect(storeReport(sends[0], 'bounce', 'dup')).resolves.toBeUndefined();
  await expect(storeReport(sends[0], 'bounce', 'dup')).rejects.toThrow(/duplicate key/);
  await notifyRunOfReports(h.temporal, h.pool, run.id, 3);
  await waitFor('the duplicate to be applied', async () => {
    const r = await h.pool.query(
      `SELECT count(*)::int AS n FROM inbound_report WHERE run_id = $1 AND status = 'pending'`,
      [run.id],
    );
    return r.rows[0].n === 0;
  });
  expect((await h.api('GET', `/v1/wizard-runs/${run.id}`)).body.counters).toMatchObject({
    delivered: 2,
    errors: 1,
  });
  expect((await h.api('GET', `/v1/leads/${sends[0].lead_id}`)).body.emailErrorCount).toBe(1);
  await handle.cancel();
});

test('when a complaint arrives, then the address is blocklisted and the lead unsubscribed from bulk mail', async () => {
  const { run, sends } = await deliveredRun(1);
  await storeReport(sends[0], 'complaint');
  await notifyRunOfReports(h.temporal, h.pool, run.id, 3);
  const st = await waitFor('blocklisting', async () => {
    const r = await h.api(
      'GET',
      `/v1/address-statuses?channel=email&address=${encodeURIComponent(sends[0].address)}`,
    );
    return r.status === 200 && r.body.status === 'blocklisted' ? r.body : null;
  });
  expect(st.source).toBe('complaint');
  expect((await h.api('GET', `/v1/leads/${sends[0].lead_id}`)).body.unsubscribed.email).toMatch(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/,
  );
  await h.temporal.workflow.getHandle(run.taskId).cancel();
});

test('when many reports arrive at once, then the run gets one signal per apply cycle, not one per report', async () => {
  const { run, sends } = await deliveredRun(5);
  const outcomes: string[] = [];
  for (const s of sends) {
    await storeReport(s, 'bounce');
    outcomes.push(await notifyRunOfReports(h.temporal, h.pool, run.id, 3));
  }
  expect(outcomes.filter((o) => o === 'signalled').length).toBeLessThan(sends.length);
  // Whatever is pending gets applied: the last report always finds a signal outstanding or sends one.
  await waitFor(
    'all applied',
    async () => (await h.api('GET', `/v1/wizard-runs/${run.id}`)).body.counters.errors === 5,
  );
  const history = await h.temporal.workflow.getHandle(run.taskId).fetchHistory();
  const signals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes).length;
  expect(signals).toBe(outcomes.filter((o) => o === 'signalled').length);
  await h.temporal.workflow.getHandle(run.taskId).cancel();
});

test('when the window has closed, then a report is still applied, without the signal', async () => {
  const { run, sends } = await deliveredRun(1);
  const handle = h.temporal.workflow.getHandle(run.taskId);
  await handle.terminate('window over (test)');
  await storeReport(sends[0], 'bounce');
  expect(await notifyRunOfReports(h.temporal, h.pool, run.id, 3)).toBe('applied-directly');
  expect((await h.api('GET', `/v1/sends/${sends[0].id}`)).body).toMatchObject({
    result: 'error',
    code: 90000,
  });
  expect((await h.api('GET', `/v1/wizard-runs/${run.id}`)).body.counters).toMatchObject({
    delivered: 0,
    errors: 1,
  });
});

test('when a report was stored but its signal never came, then the run applies it as its window closes', async () => {
  // A run of its own with a 4-second window, started straight on the harness's worker.
  const seeded = await seedSlowRun(h.pool, h.sink, uniqueSuffix(), 1, 0);
  const run = {
    ...seeded,
    queues: { TASK_QUEUE_WIZARD: h.config.taskQueueWizard, TASK_QUEUE_EMAIL: h.config.taskQueueEmail },
  };
  const handle = await startSeededRun(h.temporal, run, { asyncBounceWindowMs: 4000 });
  const send = await waitFor('the delivery', async () => {
    const r = await h.pool.query(`SELECT * FROM send WHERE run_id = $1 AND result = 'delivered'`, [
      run.runId,
    ]);
    return r.rows[0];
  });
  // Stored pending, and no signal: as if the API had not reached Temporal.
  await storeReport(send, 'bounce');
  await handle.result();
  const after = (await h.api('GET', `/v1/wizard-runs/${run.runId}`)).body;
  expect(after.counters).toMatchObject({ sent: 1, delivered: 0, errors: 1 });
  expect((await h.api('GET', `/v1/sends/${send.id}`)).body).toMatchObject({ result: 'error', code: 90000 });
  const report = await h.pool.query('SELECT status FROM inbound_report WHERE send_id = $1', [send.id]);
  expect(report.rows.map((r) => r.status)).toEqual(['applied']);
});
