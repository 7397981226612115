// Scheduled runs (SPEC: a reserved run starts at its scheduledAt), against
// Temporal's time-skipping test server: the run is scheduled an hour ahead,
// the test looks at it while it waits, then moves the server's clock past its
// time. No test here depends on how fast the machine is.
import { randomBytes } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { randomUserId } from '../../dev/line-simulator';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';

const HOUR = 3600_000;

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ sendBatchSize: 2, sendBatchesInFlight: 1 }, { timeSkipping: true });
});

afterAll(async () => {
  await h?.stop();
});

/**
 * An hour ahead of both clocks: the API checks scheduledAt against the wall
 * clock, the workflow waits by the Temporal server's (ahead once skipped).
 */
async function anHourAhead(): Promise<string> {
  const serverNow = (await h.temporalNow!()).getTime();
  return new Date(Math.max(Date.now(), serverNow) + HOUR).toISOString();
}

async function runStatus(id: number): Promise<any> {
  return (await h.api('GET', `/v1/wizard-runs/${id}`)).body;
}

/** The run's workflow is waiting on its reservation timer (the first timer of its history). */
async function waitingOnTimer(handle: WorkflowHandle): Promise<number> {
  return waitFor('the reservation timer', async () => {
    const history = await handle.fetchHistory();
    const started = (history.events ?? []).find((e) => e.timerStartedEventAttributes);
    const seconds = started?.timerStartedEventAttributes?.startToFireTimeout?.seconds;
    return seconds === undefined || seconds === null ? null : Number(seconds) * 1000;
  });
}

/** Event types of the history in order, e.g. TimerFired before the first ActivityTaskScheduled. */
async function eventTypes(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).map((e) => {
    if (e.timerStartedEventAttributes) return 'TimerStarted';
    if (e.timerFiredEventAttributes) return 'TimerFired';
    if (e.activityTaskScheduledEventAttributes)
      return `ActivityScheduled:${e.activityTaskScheduledEventAttributes.activityType?.name}`;
    return 'other';
  });
}

test('when the scheduled time comes, then the reserved run sends, and not before', async () => {
  const tag = uniqueSuffix();
  const ids: number[] = [];
  for (let i = 0; i < 2; i++)
    ids.push((await h.api('POST', '/v1/leads', { name: 'S', email: `s${i}.${tag}@example.test` })).body.id);
  const template = await h.api('POST', '/v1/templates', {
    channel: 'email',
    title: `Scheduled ${tag}`,
    subject: 'Hi',
    from: 'news@example.test',
    bodyText: 'Hello',
  });
  expect(template.status).toBe(201);
  const scheduledAt = await anHourAhead();
  const created = await h.api('POST', '/v1/wizard-runs', {
    templateId: template.body.id,
    leadIds: ids,
    scheduledAt,
  });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ status: 'reserved', scheduledAt });
  const handle = h.temporal.workflow.getHandle(created.body.taskId);

  // Waiting: about an hour on a durable timer, the run reserved, nothing sent.
  const waitMs = await waitingOnTimer(handle);
  expect(waitMs).toBeGreaterThan(HOUR - 5 * 60_000);
  expect(waitMs).toBeLessThanOrEqual(HOUR + 60_000);
  expect((await runStatus(created.body.id)).status).toBe('reserved');
  expect(h.sink.messagesTo(`s0.${tag}@example.test`)).toHaveLength(0);

  await h.skipTime!(HOUR);
  const final = await waitFor('completion', async () => {
    const r = await runStatus(created.body.id);
    return r.status === 'completed' ? r : null;
  });
  expect(final.counters).toMatchObject({ targets: 2, sent: 2, delivered: 2 });
  for (let i = 0; i < 2; i++) expect(h.sink.messagesTo(`s${i}.${tag}@example.test`)).toHaveLength(1);
  // The run prepared only once the timer had fired.
  const types = await eventTypes(handle);
  expect(types.indexOf('TimerFired')).toBeGreaterThan(-1);
  expect(types.indexOf('TimerFired')).toBeLessThan(types.indexOf('ActivityScheduled:markPreparing'));
});

test('when the official account is deleted before a scheduled run starts, then the run ends in error', async () => {
  const token = `tok-${randomBytes(16).toString('hex')}`;
  const secret = randomBytes(16).toString('hex');
  h.line.addChannel({ accessToken: token, channelSecret: secret });
  const account = await h.api('POST', '/v1/official-accounts', {
    name: `OA ${uniqueSuffix()}`,
    channelId: String(1_650_000_000 + Math.floor(Math.random() * 1e6)),
    accessToken: token,
    channelSecret: secret,
  });
  expect(account.status).toBe(201);
  const template = await h.api('POST', '/v1/templates', {
    channel: 'line',
    title: `L ${uniqueSuffix()}`,
    lineAccountId: account.body.id,
    lineMessages: [{ type: 'text', text: 'Hello {{name}}' }],
  });
  expect(template.status).toBe(201);
  const user = randomUserId();
  const lead = await h.api('POST', '/v1/leads', { name: 'Late', lineUserId: user });
  expect(lead.status).toBe(201);
  const created = await h.api('POST', '/v1/wizard-runs', {
    templateId: template.body.id,
    leadIds: [lead.body.id],
    scheduledAt: await anHourAhead(),
  });
  expect(created.status).toBe(201);
  // The account goes while the run waits for its time.
  await waitingOnTimer(h.temporal.workflow.getHandle(created.body.taskId));
  expect((await h.api('DELETE', `/v1/official-accounts/${account.body.id}`)).status).toBe(204);

  await h.skipTime!(HOUR);
  const run = await waitFor(`run ${created.body.id} to end`, async () => {
    const r = await runStatus(created.body.id);
    return ['error', 'completed'].includes(r.status) ? r : null;
  });
  expect(run.status).toBe('error');
  expect(run.errorMessage).toMatch(/official account .* no longer exists/);
  expect(h.line.pushes(user)).toHaveLength(0);
});
