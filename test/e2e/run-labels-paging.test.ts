// Issue 18: a run as the API shows it (GET /v1/wizard-runs/{id}, the run
// list) and its unsent list carry labels in the reader's language
// (Accept-Language, else DEFAULT_LANGUAGE) beside codes that never change;
// the lists page by cursor and count the whole list only on the first page or
// when asked, so a later page costs only what it holds.
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ sendBatchSize: 10, sendBatchesInFlight: 1 });
});

afterAll(async () => {
  await h?.stop();
});

async function lead(email: string): Promise<number> {
  const res = await h.api('POST', '/v1/leads', { name: 'Lead', email });
  expect(res.status).toBe(201);
  return res.body.id;
}

const ja = { headers: { 'accept-language': 'ja-JP,ja;q=0.9' } };
const en = { headers: { 'accept-language': 'en-US,en;q=0.8' } };

let runId: number;
const ids: Record<string, number> = {};

beforeAll(async () => {
  const tag = uniqueSuffix();
  ids.full = await lead(`full+${tag}@example.test`);
  ids.ok1 = await lead(`ok1.${tag}@example.test`);
  ids.ok2 = await lead(`ok2.${tag}@example.test`);
  ids.ok3 = await lead(`ok3.${tag}@example.test`);
  ids.unsub1 = await lead(`unsub1.${tag}@example.test`);
  ids.unsub2 = await lead(`unsub2.${tag}@example.test`);
  await h.pool.query('UPDATE lead SET unsubscribed_email_at = now() WHERE id = ANY($1::int[])', [
    [ids.unsub1, ids.unsub2],
  ]);
  const tpl = await h.api('POST', '/v1/templates', {
    channel: 'email',
    title: `Labels ${tag}`,
    subject: 'Hi',
    from: 'news@example.test',
    bodyText: 'Hello',
  });
  expect(tpl.status).toBe(201);
  const created = await h.api('POST', '/v1/wizard-runs', {
    templateId: tpl.body.id,
    leadIds: Object.values(ids),
  });
  expect(created.status).toBe(201);
  runId = created.body.id;
  // Completed after its first pass, while the full mailbox waits for a retry wave.
  await waitFor('the run completed with a pending wave', async () => {
    const r = (await h.api('GET', `/v1/wizard-runs/${runId}`)).body;
    return r.status === 'completed' && r.waves.pending.count === 1 ? r : null;
  });
});

test('when a run is read in Japanese or English, then its labels follow Accept-Language and its codes stay', async () => {
  const inJa = await h.api('GET', `/v1/wizard-runs/${runId}`, undefined, ja);
  expect(inJa.body).toMatchObject({
    status: 'completed',
    channel: 'email',
    labels: { status: '完了', channel: 'メール' },
  });
  expect(inJa.body.waves.pending.byReason).toEqual([
    expect.objectContaining({
      reason: 'mailbox_full',
      count: 1,
      labels: { reason: 'メールボックス容量超過' },
    }),
  ]);
  const inEn = await h.api('GET', `/v1/wizard-runs/${runId}`, undefined, en);
  expect(inEn.body).toMatchObject({
    status: 'completed',
    labels: { status: 'completed', channel: 'email' },
  });
  expect(inEn.body.waves.pending.byReason[0]).toMatchObject({
    reason: 'mailbox_full',
    labels: { reason: 'mailbox full' },
  });
  // No header: DEFAULT_LANGUAGE (ja).
  expect((await h.api('GET', `/v1/wizard-runs/${runId}`)).body.labels.status).toBe('完了');

  // The run list labels its runs the same way.
  const list = await h.api('GET', '/v1/wizard-runs?channel=email&limit=500', undefined, en);
  expect(list.status).toBe(200);
  expect(list.body.items.find((r: any) => r.id === runId)).toMatchObject({
    status: 'completed',
    labels: { status: 'completed', channel: 'email' },
  });
  const listJa = await h.api('GET', '/v1/wizard-runs?channel=email&limit=500', undefined, ja);
  expect(listJa.body.items.find((r: any) => r.id === runId).labels.status).toBe('完了');
});

test('when the unsent list is paged by cursor, then each entry has its reason label, the pages join, and the total is the run’s', async () => {
  const first = await h.api('GET', `/v1/wizard-runs/${runId}/unsent?limit=1`, undefined, ja);
  expect(first.status).toBe(200);
  expect(first.body).toMatchObject({
    items: [{ leadId: ids.unsub1, reason: 'unsubscribed', labels: { reason: '配信停止済み' } }],
    nextCursor: String(ids.unsub1),
    total: 2,
  });
  const second = await h.api(
    'GET',
    `/v1/wizard-runs/${runId}/unsent?limit=1&cursor=${first.body.nextCursor}`,
    undefined,
    en,
  );
  expect(second.body).toMatchObject({
    items: [{ leadId: ids.unsub2, reason: 'unsubscribed', labels: { reason: 'unsubscribed' } }],
    nextCursor: null,
    total: 2,
  });
  // The total agrees with the run's own figures.
  const run = (await h.api('GET', `/v1/wizard-runs/${runId}`)).body;
  expect(run.counters.excluded + run.progress.remaining).toBe(2);
  // Offset paging still works.
  const byOffset = await h.api('GET', `/v1/wizard-runs/${runId}/unsent?limit=1&offset=1`);
  expect(byOffset.body.items.map((u: any) => u.leadId)).toEqual([ids.unsub2]);
  expect((await h.api('GET', `/v1/wizard-runs/${runId}/unsent?cursor=x`)).status).toBe(400);
});

test('when a list is paged, then the first page counts the whole list, later pages do not unless asked, and the pages join', async () => {
  const base = `/v1/wizard-runs/${runId}/unopened`;
  const first = await h.api('GET', `${base}?limit=2`);
  expect(first.status).toBe(200);
  expect(first.body).toMatchObject({ counted: 3, leftLeads: 0 });
  const second = await h.api('GET', `${base}?limit=2&cursor=${first.body.nextCursor}`);
  expect(second.body).toMatchObject({ counted: null, leftLeads: null, nextCursor: null });
  expect([...first.body.items, ...second.body.items].map((u: any) => u.leadId)).toEqual([
    ids.ok1,
    ids.ok2,
    ids.ok3,
  ]);
  const asked = await h.api('GET', `${base}?limit=2&cursor=${first.body.nextCursor}&counts=true`);
  expect(asked.body).toMatchObject({ counted: 3, leftLeads: 0 });
  const skipped = await h.api('GET', `${base}?limit=2&counts=false`);
  expect(skipped.body).toMatchObject({ counted: null, leftLeads: null });
  expect(skipped.body.items).toEqual(first.body.items);
  // The openers list (none opened) answers an empty first page with its counts.
  expect((await h.api('GET', `/v1/wizard-runs/${runId}/openers`)).body).toMatchObject({
    items: [],
    counted: 0,
    nextCursor: null,
  });
});
