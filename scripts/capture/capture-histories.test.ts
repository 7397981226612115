// `npm run capture-histories`: records sample histories of the wizard run
// workflow (completed, cancelled while reserved, retried in waves, listening
// for asynchronous reports) into test/fixtures/histories/. The suite replays
// them (test/workflow/replay.test.ts), so a change that would break runs in
// flight fails the tests. Re-capture deliberately, when a change is meant to
// be incompatible and is shipped with a new workflow version.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { resolveTemporalCli } from '../../dev/temporal-binary';
import { notifyRunOfReports } from '../../inbound/run-signal';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../../test/support/harness';

const out = join(__dirname, '..', '..', 'test', 'fixtures', 'histories');
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ asyncBounceWindowSeconds: 0 });
});
afterAll(async () => h?.stop());

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

async function save(name: string, workflowId: string) {
  const handle = h.temporal.workflow.getHandle(workflowId);
  await handle.result().catch(() => undefined);
  // The CLI writes the history in the proto-JSON form the replayer reads.
  const json = execFileSync(resolveTemporalCli() ?? 'temporal', [
    'workflow',
    'show',
    '--workflow-id',
    workflowId,
    '--address',
    h.config.temporalAddress,
    '--output',
    'json',
  ]);
  writeFileSync(join(out, `${name}.json`), json);
}

test('capture: completed, cancelled, retried and async-report runs', async () => {
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
