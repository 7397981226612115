// Issue 18 on Temporal's time-skipping test server, through the API: a run is
// completed (完了) when its first pass is sent while the default retry waves
// (5 × hourly, 4 × daily) go on for days, shown apart; and a scheduled run's
// reminder mail (リマインドメール) waits on its own durable timer, goes out
// before the start, and is cancelled with the run.
import type { WorkflowHandle } from '@temporalio/client';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';
import { mailText } from '../support/mail-text';

const HOUR = 3600_000;

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ sendBatchSize: 10, sendBatchesInFlight: 1 }, { timeSkipping: true });
});

afterAll(async () => {
  await h?.stop();
});

async function runOf(id: number): Promise<any> {
  return (await h.api('GET', `/v1/wizard-runs/${id}`)).body;
}

async function lead(email: string): Promise<number> {
  const res = await h.api('POST', '/v1/leads', { name: 'Lead', email });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function template(): Promise<number> {
  const res = await h.api('POST', '/v1/templates', {
    channel: 'email',
    title: `W ${uniqueSuffix()}`,
    subject: 'Hi',
    from: 'news@example.test',
    bodyText: 'Hello',
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

/** The timers of a workflow's history: duration and summary, in order. */
async function timers(handle: WorkflowHandle): Promise<Array<{ ms: number; summary: string | null }>> {
  const history = await handle.fetchHistory();
  return (history.events ?? [])
    .filter((e) => e.timerStartedEventAttributes)
    .map((e) => {
      const data = e.userMetadata?.summary?.data;
      return {
        ms: Number(e.timerStartedEventAttributes!.startToFireTimeout?.seconds ?? 0) * 1000,
        summary: data ? (JSON.parse(Buffer.from(data).toString()) as string) : null,
      };
    });
}

test('when a mailbox stays full, then the run is completed after its first pass while the default waves go on for days, shown apart, and end given up', async () => {
  const tag = uniqueSuffix();
  const full = `full+${tag}@example.test`;
  const ids = [await lead(full), await lead(`ok.${tag}@example.test`)];
  const created = await h.api('POST', '/v1/wizard-runs', { templateId: await template(), leadIds: ids });
  expect(created.status).toBe(201);
  expect(created.body.status).toBe('preparing');

  const completed = await waitFor('the first pass', async () => {
    const r = await runOf(created.body.id);
    return r.status === 'completed' && r.waves.pending.count > 0 ? r : null;
  });
  expect(completed.counters).toMatchObject({ targets: 2, sent: 2, delivered: 1, errors: 1 });
  expect(completed.progress).toMatchObject({ expectedCompletionAt: null, minutesLeft: null });
  expect(completed.progress.summary).not.toMatch(/minutes left/);
  expect(completed.waves).toMatchObject({
    pending: { count: 1, byReason: [{ reason: 'mailbox_full', count: 1 }] },
    retried: 0,
    givenUp: 0,
    finishedAt: null,
  });
  // The first wave is an hour after the first attempt.
  const wait = Date.parse(completed.waves.pending.nextAt) - Date.parse(completed.completedAt);
  expect(Math.abs(wait - HOUR)).toBeLessThan(5 * 60_000);

  // The waves on durable timers: the server's clock skips while we wait for the workflow.
  const handle = h.temporal.workflow.getHandle(created.body.taskId);
  const result = await handle.result();
  expect(result).toMatchObject({ status: 'completed', waves: 9 });

  const after = await runOf(created.body.id);
  expect(after.status).toBe('completed');
  expect(after.completedAt).toBe(completed.completedAt);
  expect(after.waves).toMatchObject({ pending: { count: 0, byReason: [] }, retried: 1, givenUp: 1 });
  expect(after.waves.finishedAt).toEqual(expect.any(String));
  const sends = (await h.api('GET', `/v1/wizard-runs/${created.body.id}/sends`)).body.items;
  expect(sends.find((s: any) => s.address === full)).toMatchObject({
    result: 'error',
    code: 41606,
    attempts: 10,
  });
});

test('when a scheduled run has a remind address, then the reminder waits on its own timer, goes out before the start, and a cancelled run sends none', async () => {
  const tag = uniqueSuffix();
  const id = await lead(`r.${tag}@example.test`);
  const serverNow = (await h.temporalNow!()).getTime();
  const scheduledAt = new Date(Math.max(Date.now(), serverNow) + 3 * HOUR).toISOString();
  const created = await h.api('POST', '/v1/wizard-runs', {
    templateId: await template(),
    leadIds: [id],
    scheduledAt,
    remindMail: `remind.${tag}@example.test`,
    remindBeforeMinutes: 60,
  });
  expect(created.status).toBe(201);
  const reminderId = `wizard-run-${created.body.id}-reminder`;
  expect(created.body.reminder).toMatchObject({
    id: reminderId,
    to: `remind.${tag}@example.test`,
    at: new Date(Date.parse(scheduledAt) - HOUR).toISOString(),
    status: 'scheduled',
    sentAt: null,
  });
  const handle = h.temporal.workflow.getHandle(created.body.taskId);
  const [first] = await waitFor('the reminder timer', async () => {
    const t = await timers(handle);
    return t.length > 0 ? t : null;
  });
  expect(first!.summary).toBe(reminderId);
  expect(first!.ms).toBeGreaterThan(2 * HOUR - 5 * 60_000);
  expect(first!.ms).toBeLessThanOrEqual(2 * HOUR + 60_000);
  expect(h.sink.messagesTo(`remind.${tag}@example.test`)).toHaveLength(0);

  // A second run, cancelled before its reminder is due.
  const other = await lead(`c.${tag}@example.test`);
  const cancelled = await h.api('POST', '/v1/wizard-runs', {
    templateId: await template(),
    leadIds: [other],
    scheduledAt,
    remindMail: `never.${tag}@example.test`,
  });
  expect((await h.api('DELETE', `/v1/wizard-runs/${cancelled.body.id}`)).status).toBe(202);

  await h.skipTime!(2 * HOUR + 60_000);
  const mail = await waitFor('the reminder', async () => h.sink.messagesTo(`remind.${tag}@example.test`)[0]);
  // In the account's language and zone by default: Japanese, the start in JST.
  expect(mail.subject).toMatch(/【リマインド】/);
  const jst = new Date(Math.floor(Date.parse(scheduledAt) / 1000) * 1000 + 9 * HOUR).toISOString();
  expect(await mailText(mail)).toContain(`${jst.slice(0, 10)} ${jst.slice(11, 19)} JST に送信を開始します`);
  const reminded = await runOf(created.body.id);
  expect(reminded.status).toBe('reserved');
  expect(reminded.reminder).toMatchObject({ status: 'sent' });
  expect(h.sink.messagesTo(`r.${tag}@example.test`)).toHaveLength(0);

  const gone = await waitFor('the cancelled run', async () => {
    const r = await runOf(cancelled.body.id);
    return r.status === 'cancelled' ? r : null;
  });
  expect(gone.reminder).toMatchObject({ status: 'cancelled', sentAt: null });
  expect(h.sink.messagesTo(`never.${tag}@example.test`)).toHaveLength(0);

  await h.skipTime!(HOUR);
  await waitFor('the run to send', async () => (await runOf(created.body.id)).status === 'completed');
  expect(h.sink.messagesTo(`r.${tag}@example.test`)).toHaveLength(1);
  expect(h.sink.messagesTo(`remind.${tag}@example.test`)).toHaveLength(1);
});
