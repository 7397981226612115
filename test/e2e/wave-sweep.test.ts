// Issue 18 through the API on the real stack: a completed run whose workflow is
// gone (terminated, lost) leaves no send with a next attempt nothing will make.
// The consistency sweep gives such sends up (41607) and records it on the run;
// a run whose workflow still drives its waves is left alone.
import { runConsistencySweepWorkflow } from '../../workflows/run-sweep';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ sendBatchSize: 10, sendBatchesInFlight: 1 });
});

afterAll(async () => {
  await h?.stop();
});

async function runOf(id: number): Promise<any> {
  return (await h.api('GET', `/v1/wizard-runs/${id}`)).body;
}

/** A completed run to a full mailbox and a working one: its first wave waits an hour on its workflow's timer. */
async function runWithPendingWave(): Promise<{ run: any; full: string }> {
  const tag = uniqueSuffix();
  const full = `full+${tag}@example.test`;
  const ids: number[] = [];
  for (const email of [full, `ok.${tag}@example.test`])
    ids.push((await h.api('POST', '/v1/leads', { name: 'W', email })).body.id);
  const tpl = await h.api('POST', '/v1/templates', {
    channel: 'email',
    title: `Sweep ${tag}`,
    subject: 'Hi',
    from: 'news@example.test',
    bodyText: 'Hello',
  });
  const created = await h.api('POST', '/v1/wizard-runs', { templateId: tpl.body.id, leadIds: ids });
  expect(created.status).toBe(201);
  const run = await waitFor('the first pass', async () => {
    const r = await runOf(created.body.id);
    return r.status === 'completed' && r.waves.pending.count === 1 ? r : null;
  });
  return { run, full };
}

async function sendTo(runId: number, address: string): Promise<any> {
  const items = (await h.api('GET', `/v1/wizard-runs/${runId}/sends`)).body.items as any[];
  return (await h.api('GET', `/v1/sends/${items.find((i) => i.address === address).id}`)).body;
}

/** One pass of the consistency sweep, as its Schedule starts it, on this file's worker. */
function sweep() {
  return h.temporal.workflow.execute(runConsistencySweepWorkflow, {
    taskQueue: h.config.taskQueueWizard,
    workflowId: `sweep-${uniqueSuffix()}`,
  });
}

test("when a completed run's workflow is terminated while a send waits for its wave, then the sweep gives the send up and the run shows why", async () => {
  const gone = await runWithPendingWave();
  const alive = await runWithPendingWave();
  const pendingAt = (await sendTo(gone.run.id, gone.full)).nextAttemptAt;
  expect(pendingAt).toEqual(expect.any(String));
  await h.temporal.workflow.getHandle(gone.run.taskId).terminate('an operator stopped it');

  const result = await sweep();
  expect(result.wavesCleared).toBeGreaterThanOrEqual(1);

  const after = await runOf(gone.run.id);
  expect(after.status).toBe('completed');
  expect(after.waves.pending).toEqual({ count: 0, nextAt: null, byReason: [] });
  expect(after.waves.swept).toEqual({
    at: expect.any(String),
    reason: expect.stringMatching(
      /workflow ended \(terminated\) while 1 send was waiting for a retry wave .*given up \(41607\)/,
    ),
    sends: 1,
  });
  expect(after.waves.finishedAt).toBe(after.waves.swept.at);
  expect(after.progress.summary).not.toMatch(/waiting for a retry wave/);
  const send = await sendTo(gone.run.id, gone.full);
  expect(send).toMatchObject({ result: 'error', code: 41607, nextAttemptAt: null, attempts: 1 });
  expect(send.detail).toMatch(/consistency sweep; last: .*mailbox full/i);

  // The run whose workflow still waits for the wave keeps it.
  const kept = await runOf(alive.run.id);
  expect(kept.waves).toMatchObject({ pending: { count: 1 }, swept: null });
  expect((await sendTo(alive.run.id, alive.full)).nextAttemptAt).toEqual(expect.any(String));

  // A second pass finds nothing more to do for the swept run.
  await sweep();
  expect((await runOf(gone.run.id)).waves.swept).toEqual(after.waves.swept);
  await h.temporal.workflow.getHandle(alive.run.taskId).cancel();
});
