// `npm run capture-histories`: records sample histories of the wizard run
// workflow (completed, cancelled while reserved, retried in waves, listening
// for asynchronous reports; an SMS run, a LINE run, a run that continued as
// new, a run whose bounce window closed through the final sweep, runs that
// ended in error before and through the RUN_FAILURES_END_IN_ERROR patch) into
// test/fixtures/histories/. Each test re-captures its own
// files only: `npm run capture-histories -- -t 'SMS'` refreshes one set and
// leaves the older histories (recorded before later patches) as they are. The suite replays
// them (test/workflow/replay.test.ts), so a change that would break runs in
// flight fails the tests. Re-capture deliberately, when a change is meant to
// be incompatible and is shipped with a new workflow version.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { randomUserId } from '../../dev/line-simulator';
import { resolveTemporalCli } from '../../dev/temporal-binary';
import { notifyRunOfReports } from '../../inbound/run-signal';
import { createLineAccount } from '../../test/support/fixtures';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../../test/support/harness';

const out = join(__dirname, '..', '..', 'test', 'fixtures', 'histories');
let h: Harness;

afterEach(async () => {
  await h?.stop();
});

async function setup(emails: string[]) {
  const tag = uniqueSuffix();
  const ids: number[] = [];
  for (const e of emails)
    ids.push((await h.api('POST', '/v1/leads', { name: 'H', email: e.replace('TAG', tag) })).body.id);
  const tpl = await h.api('POST', '/v1/templates', {
    channel: 'email',
    title: `H ${tag}`,
    subject: 'Hi',
    from: 'n@example.test',
    bodyText: 'x',
  });
  return { ids, templateId: tpl.body.id as number };
}

async function save(name: string, workflowId: string, runId?: string) {
  const handle = h.temporal.workflow.getHandle(workflowId);
  await handle.result().catch(() => undefined);
  // The CLI writes the history in the proto-JSON form the replayer reads.
  const json = execFileSync(resolveTemporalCli() ?? 'temporal', [
    'workflow',
    'show',
    '--workflow-id',
    workflowId,
    ...(runId ? ['--run-id', runId] : []),
    '--address',
    h.config.temporalAddress,
    '--output',
    'json',
  ]);
  writeFileSync(join(out, `${name}.json`), json);
}

async function runReaches(id: number, statuses: string[]) {
  return waitFor(`run ${id} to reach ${statuses.join(' or ')}`, async () => {
    const r = (await h.api('GET', `/v1/wizard-runs/${id}`)).body;
    return statuses.includes(r.status) ? r : null;
  });
}

test('capture: completed, cancelled, retried and async-report runs', async () => {
  h = await startHarness({ asyncBounceWindowSeconds: 0 });
  const a = await setup(['a.TAG@example.test', 'b.TAG@example.test']);
  const completed = await h.api('POST', '/v1/wizard-runs', { templateId: a.templateId, leadIds: a.ids });
  await save('completed', completed.body.taskId);

  const b = await setup(['c.TAG@example.test']);
  const reserved = await h.api('POST', '/v1/wizard-runs', {
    templateId: b.templateId,
    leadIds: b.ids,
    scheduledAt: new Date(Date.now() + 3600_000).toISOString(),
  });
  await h.api('DELETE', `/v1/wizard-runs/${reserved.body.id}`);
  await save('cancelled-reserved', reserved.body.taskId);

  const c = await setup(['greylist+TAG@example.test', 'full+TAG@example.test', 'ok.TAG@example.test']);
  const retried = await h.api('POST', '/v1/wizard-runs', {
    templateId: c.templateId,
    leadIds: c.ids,
    retrySchedules: { '*': { delaysMs: [500, 500] }, unreachable: { delaysMs: [500, 500] } },
  });
  await save('retried', retried.body.taskId);

  await h.stop();
  h = await startHarness({ asyncBounceWindowSeconds: 30 });
  const d = await setup(['r.TAG@example.test']);
  const listening = await h.api('POST', '/v1/wizard-runs', { templateId: d.templateId, leadIds: d.ids });
  await waitFor(
    'completion',
    async () => (await h.api('GET', `/v1/wizard-runs/${listening.body.id}`)).body.status === 'completed',
  );
  const send = (await h.pool.query('SELECT id FROM send WHERE run_id = $1', [listening.body.id])).rows[0];
  await h.pool.query(
    `INSERT INTO inbound_report (received_at, fingerprint, kind, status, send_id, run_id, action, remote_text, raw)
     VALUES (now(), $1, 'dsn', 'pending', $2, $3, 'bounce', '550 5.1.1 unknown', 'raw')`,
    [uniqueSuffix(), send.id, listening.body.id],
  );
  await notifyRunOfReports(h.temporal, h.pool, listening.body.id, 3);
  await waitFor(
    'the bounce',
    async () => (await h.api('GET', `/v1/wizard-runs/${listening.body.id}`)).body.counters.errors === 1,
  );
  await h.temporal.workflow.getHandle(listening.body.taskId).cancel();
  await save('async-report-then-cancelled', listening.body.taskId);
}, 300_000);

test('capture: SMS, LINE and error-ended runs', async () => {
  h = await startHarness({ asyncBounceWindowSeconds: 0 });
  const tag = uniqueSuffix();

  // SMS: one mobile the simulator accepts (its last four digits pick the behaviour).
  const phone = `090-${randomInt(1000, 10000)}-5001`;
  const smsLead = await h.api('POST', '/v1/leads', { name: 'S', phones: { mobile: phone } });
  const smsTpl = await h.api('POST', '/v1/templates', { channel: 'sms', title: `S ${tag}`, smsBody: 'Hi' });
  const sms = await h.api('POST', '/v1/wizard-runs', {
    templateId: smsTpl.body.id,
    leadIds: [smsLead.body.id],
  });
  expect((await runReaches(sms.body.id, ['completed', 'error'])).status).toBe('completed');
  await save('sms-completed', sms.body.taskId);

  // LINE: one friend reached through the Messaging API simulator.
  const account = await createLineAccount(h);
  const lineLead = await h.api('POST', '/v1/leads', { name: 'L', lineUserId: randomUserId() });
  const lineTpl = await h.api('POST', '/v1/templates', {
    channel: 'line',
    title: `L ${tag}`,
    lineAccountId: account.id,
    lineMessages: [{ type: 'text', text: 'Hello {{name}}' }],
  });
  const line = await h.api('POST', '/v1/wizard-runs', {
    templateId: lineTpl.body.id,
    leadIds: [lineLead.body.id],
  });
  expect((await runReaches(line.body.id, ['completed', 'error'])).status).toBe('completed');
  await save('line-completed', line.body.taskId);

  // Error: the official account goes while the run waits for its time.
  const gone = await createLineAccount(h);
  const goneTpl = await h.api('POST', '/v1/templates', {
    channel: 'line',
    title: `G ${tag}`,
    lineAccountId: gone.id,
    lineMessages: [{ type: 'text', text: 'Hello' }],
  });
  const doomed = await h.api('POST', '/v1/wizard-runs', {
    templateId: goneTpl.body.id,
    leadIds: [lineLead.body.id],
    scheduledAt: new Date(Date.now() + 5_000).toISOString(),
  });
  expect((await h.api('DELETE', `/v1/official-accounts/${gone.id}`)).status).toBe(204);
  expect((await runReaches(doomed.body.id, ['completed', 'error'])).status).toBe('error');
  await save('line-error', doomed.body.taskId);
}, 300_000);

test('capture: a run that continued as new (both executions)', async () => {
  h = await startHarness({
    asyncBounceWindowSeconds: 0,
    sendBatchSize: 2,
    sendBatchesInFlight: 1,
    maxBatchesPerExecution: 2,
  });
  const a = await setup([
    'a.TAG@example.test',
    'b.TAG@example.test',
    'c.TAG@example.test',
    'd.TAG@example.test',
    'e.TAG@example.test',
  ]);
  const run = await h.api('POST', '/v1/wizard-runs', { templateId: a.templateId, leadIds: a.ids });
  expect((await runReaches(run.body.id, ['completed', 'error'])).status).toBe('completed');
  const handle = h.temporal.workflow.getHandle(run.body.taskId);
  const history = await handle.fetchHistory();
  const previous = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
  expect(previous).toBeTruthy();
  await save('continued-as-new-first', run.body.taskId, previous!);
  await save('continued-as-new-last', run.body.taskId);
}, 300_000);

test('capture: a run whose bounce window closed through the final sweep', async () => {
  h = await startHarness({ asyncBounceWindowSeconds: 2 });
  const a = await setup(['w.TAG@example.test']);
  const run = await h.api('POST', '/v1/wizard-runs', { templateId: a.templateId, leadIds: a.ids });
  await h.temporal.workflow.getHandle(run.body.taskId).result();
  const history = await h.temporal.workflow.getHandle(run.body.taskId).fetchHistory();
  // The patched step left its marker and ran one last apply.
  expect(history.events?.some((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')).toBe(
    true,
  );
  await save('window-closed-final-sweep', run.body.taskId);
}, 300_000);

test('capture: a run that ended in error through the patched step (no SMS transport on the workers)', async () => {
  h = await startHarness({ asyncBounceWindowSeconds: 0 }, { sms: false });
  const lead = await h.api('POST', '/v1/leads', {
    name: 'S',
    phones: { mobile: `090-${randomInt(1000, 10000)}-5001` },
  });
  const tpl = await h.api('POST', '/v1/templates', {
    channel: 'sms',
    title: `S ${uniqueSuffix()}`,
    smsBody: 'Hi',
  });
  const run = await h.api('POST', '/v1/wizard-runs', { templateId: tpl.body.id, leadIds: [lead.body.id] });
  expect((await runReaches(run.body.id, ['completed', 'error'])).status).toBe('error');
  const history = await h.temporal.workflow.getHandle(run.body.taskId).fetchHistory();
  // ChannelUnavailable is not among the legacy setup failures: the RUN_FAILURES_END_IN_ERROR patch ended it.
  expect(history.events?.some((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')).toBe(
    true,
  );
  await save('sms-error-patched', run.body.taskId);
}, 300_000);
