// MX management (SPEC 5) end to end: a receiving domain that keeps failing
// trips the breaker, its remaining sends are held (delayed, not failed) and
// go out by themselves when the block ends; the state lives in the database.
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ sendBatchSize: 5, sendBatchesInFlight: 1 });
});

afterAll(async () => {
  await h?.stop();
});

async function template() {
  return (
    await h.api('POST', '/v1/templates', {
      channel: 'email',
      title: `MX ${uniqueSuffix()}`,
      subject: 'Hi',
      from: 'n@example.test',
      bodyText: 'x',
    })
  ).body.id;
}

test('when a domain fails past its error rate, then it is blocked, held sends wait, and they go out once the block ends', async () => {
  const domain = `flaky-${uniqueSuffix()}.test`;
  const rule = await h.api('POST', '/v1/domain-rules', {
    domain,
    errorRateThreshold: 0.8,
    minMessages: 5,
    // Long enough that the next batch surely finds the domain still blocked,
    // however slow the machine; the held sends then wait for it by themselves.
    blockSeconds: 30,
  });
  expect(rule.status).toBe(201);
  const addresses = Array.from({ length: 15 }, (_, i) => `u${i}@${domain}`);
  for (const a of addresses)
    h.sink.script(a, { kind: 'reject-rcpt', code: 550, enhanced: '5.1.1', text: 'no such user' });
  const ids: number[] = [];
  for (const a of addresses) ids.push((await h.api('POST', '/v1/leads', { name: 'M', email: a })).body.id);

  const created = await h.api('POST', '/v1/wizard-runs', { templateId: await template(), leadIds: ids });
  const runId = created.body.id;
  // The first batch fails 5 of 5: the breaker opens, later sends are held, not failed.
  const blocked = await waitFor('the breaker to open', async () => {
    const s = await h.api('GET', '/v1/domain-states?blockedOnly=true');
    return s.body.items.find((i: any) => i.domain === domain) ?? null;
  });
  // The block lasts blockSeconds from the failure that tripped it (the last of the first batch's).
  const lastFailure = await h.pool.query(
    `SELECT max(a.at) AS at FROM send_attempt_history a JOIN send s ON s.id = a.send_id WHERE s.run_id = $1 AND a.result = 'error'`,
    [runId],
  );
  expect(Date.parse(blocked.blockedUntil)).toBeGreaterThanOrEqual(lastFailure.rows[0].at.getTime() + 29_000);
  const during = (await h.api('GET', `/v1/wizard-runs/${runId}`)).body;
  expect(during.status).toBe('running');
  expect(during.counters.errors).toBe(5);
  // The next batch finds the domain blocked and holds its sends.
  await waitFor(
    'held sends',
    async () => {
      const held = await h.pool.query(
        `SELECT count(*)::int AS n FROM send WHERE run_id = $1 AND result = 'pending' AND next_attempt_at IS NOT NULL`,
        [runId],
      );
      return held.rows[0].n > 0;
    },
    180_000,
  );
  const unsent = (await h.api('GET', `/v1/wizard-runs/${runId}/unsent`)).body.items;
  expect(unsent.length).toBeGreaterThan(0);
  expect(unsent.filter((u: any) => u.reason !== 'pending')).toEqual([]);

  // The domain recovers; the held sends go out by themselves after the block.
  for (const a of addresses) h.sink.script(a, { kind: 'accept' });
  const final = await waitFor(
    'completion',
    async () => {
      const r = (await h.api('GET', `/v1/wizard-runs/${runId}`)).body;
      return r.status === 'completed' ? r : null;
    },
    240_000,
  );
  expect(final.counters).toMatchObject({ targets: 15, sent: 15, errors: 5, delivered: 10 });
  const firstAfter = await h.pool.query(
    `SELECT min(a.at) AS at FROM send_attempt_history a JOIN send s ON s.id = a.send_id WHERE s.run_id = $1 AND a.result = 'delivered'`,
    [runId],
  );
  expect(firstAfter.rows[0].at.getTime()).toBeGreaterThanOrEqual(Date.parse(blocked.blockedUntil) - 50);
  for (const a of addresses.slice(5)) expect(h.sink.messagesTo(a)).toHaveLength(1);
}, 600_000);

test('when a domain has an hourly allowance, then sends beyond it wait for the next hour instead of failing', async () => {
  const domain = `capped-${uniqueSuffix()}.test`;
  expect((await h.api('POST', '/v1/domain-rules', { domain, maxPerHour: 3 })).status).toBe(201);
  const ids: number[] = [];
  for (let i = 0; i < 5; i++)
    ids.push((await h.api('POST', '/v1/leads', { name: 'C', email: `c${i}@${domain}` })).body.id);
  const created = await h.api('POST', '/v1/wizard-runs', { templateId: await template(), leadIds: ids });
  await waitFor(
    'the allowance to be used',
    async () => (await h.api('GET', `/v1/wizard-runs/${created.body.id}`)).body.counters.sent === 3,
    180_000,
  );
  const held = await waitFor(
    'two held sends',
    async () => {
      const r = await h.pool.query(
        `SELECT next_attempt_at FROM send WHERE run_id = $1 AND result = 'pending' AND next_attempt_at IS NOT NULL`,
        [created.body.id],
      );
      return r.rows.length === 2 ? r.rows : null;
    },
    180_000,
  );
  // Held until the hourly window that began with the first sends is over.
  const firstSent = await h.pool.query(
    `SELECT min(a.at) AS at FROM send_attempt_history a JOIN send s ON s.id = a.send_id WHERE s.run_id = $1`,
    [created.body.id],
  );
  for (const r of held)
    expect(r.next_attempt_at.getTime()).toBeGreaterThanOrEqual(firstSent.rows[0].at.getTime() + 59 * 60_000);
  const run = (await h.api('GET', `/v1/wizard-runs/${created.body.id}`)).body;
  expect(run).toMatchObject({ status: 'running', counters: { sent: 3, errors: 0 } });
  expect((await h.api('DELETE', `/v1/wizard-runs/${created.body.id}`)).status).toBe(202);
}, 420_000);

test('when a rule is malformed or a duplicate, then 4xx names the problem and nothing changes', async () => {
  const bad = await h.api('POST', '/v1/domain-rules', { domain: 'Not A Domain' });
  expect(bad.status).toBe(400);
  expect(bad.body.field).toBe('body.domain');
  const rate = await h.api('POST', '/v1/domain-rules', { domain: 'x.test', errorRateThreshold: 90 });
  expect(rate.status).toBe(400);
  const d = `dup-${uniqueSuffix()}.test`;
  expect((await h.api('POST', '/v1/domain-rules', { domain: d })).status).toBe(201);
  expect((await h.api('POST', '/v1/domain-rules', { domain: d })).status).toBe(409);
});
