// Issue 18 on Temporal's time-skipping test server, through the API: the retry
// schedule's global default and the delivery's validity period are settings
// (RETRY_SCHEDULE_DEFAULT, DELIVERY_VALIDITY_HOURS), while a run's own
// retrySchedules still win.
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';

const HOUR = 3600_000;

let h: Harness;

beforeAll(async () => {
  // Every 2 hours, three times; but a send may be retried only 5 hours after its first attempt.
  h = await startHarness(
    { sendBatchSize: 10, sendBatchesInFlight: 1, retryScheduleDefault: '3x2h', deliveryValidityHours: 5 },
    { timeSkipping: true },
  );
});

afterAll(async () => {
  await h?.stop();
});

async function lead(email: string): Promise<number> {
  const res = await h.api('POST', '/v1/leads', { name: 'Lead', email });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function template(): Promise<number> {
  const res = await h.api('POST', '/v1/templates', {
    channel: 'email',
    title: `R ${uniqueSuffix()}`,
    subject: 'Hi',
    from: 'news@example.test',
    bodyText: 'Hello',
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function sendTo(runId: number, address: string): Promise<any> {
  const items = (await h.api('GET', `/v1/wizard-runs/${runId}/sends`)).body.items as any[];
  const s = items.find((i) => i.address === address);
  return (await h.api('GET', `/v1/sends/${s.id}`)).body;
}

test('when the settings change the default schedule and the validity period, then waves follow them and a run override still wins', async () => {
  const tag = uniqueSuffix();
  const full = `full+${tag}@example.test`;
  const byDefault = await h.api('POST', '/v1/wizard-runs', {
    templateId: await template(),
    leadIds: [await lead(full)],
  });
  expect(byDefault.status).toBe(201);
  const ownFull = `full+own.${tag}@example.test`;
  const own = await h.api('POST', '/v1/wizard-runs', {
    templateId: await template(),
    leadIds: [await lead(ownFull)],
    retrySchedules: { '*': { delaysMs: [HOUR] } },
  });
  expect(own.status).toBe(201);

  const completed = await waitFor('the first pass', async () => {
    const r = (await h.api('GET', `/v1/wizard-runs/${byDefault.body.id}`)).body;
    return r.status === 'completed' && r.waves.pending.count > 0 ? r : null;
  });
  expect(completed.waves.pending.byReason).toEqual([
    {
      reason: 'mailbox_full',
      count: 1,
      nextAt: completed.waves.pending.nextAt,
      labels: { reason: 'メールボックス容量超過' },
    },
  ]);
  // The first wave is the setting's 2 hours after the first attempt, not the built-in hour.
  const wait = Date.parse(completed.waves.pending.nextAt) - Date.parse(completed.completedAt);
  expect(Math.abs(wait - 2 * HOUR)).toBeLessThan(5 * 60_000);

  // The waves on durable timers: the server's clock skips while we wait for the workflows.
  const result = await h.temporal.workflow.getHandle(byDefault.body.taskId).result();
  // Retries at 2 h and 4 h; the third (6 h) would be past the 5-hour validity period.
  expect(result).toMatchObject({ status: 'completed', waves: 2 });
  const after = (await h.api('GET', `/v1/wizard-runs/${byDefault.body.id}`)).body;
  expect(after.waves).toMatchObject({ pending: { count: 0 }, retried: 1, givenUp: 1 });
  const given = await sendTo(byDefault.body.id, full);
  expect(given).toMatchObject({ result: 'error', code: 41606, attempts: 3, nextAttemptAt: null });
  expect(given.detail).toMatch(/validity period \(5 h\) after 3 attempts/);

  // The run's own schedule: one retry an hour later, then given up (its schedule ran out).
  const ownResult = await h.temporal.workflow.getHandle(own.body.taskId).result();
  expect(ownResult).toMatchObject({ status: 'completed', waves: 1 });
  const ownSend = await sendTo(own.body.id, ownFull);
  expect(ownSend).toMatchObject({ result: 'error', code: 41606, attempts: 2 });
  expect(ownSend.detail).toMatch(/no delivery after 2 attempts/);
});
