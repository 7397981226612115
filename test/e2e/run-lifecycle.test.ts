// Issue 18 through the API against the real stack: an immediate run answers
// 準備中, the run records the API key that acted (not a client's free text),
// keeps the template as it was and the segment's name, links the leads the
// segment selects now, shows its planned completion from the moment its
// targets are known and hides it once completed, mails its figures at the end,
// and failed single sends (email and SMS) are told to the template's error
// address. The run search filters by segment and refuses an unknown status.
import { randomInt } from 'node:crypto';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';
import { mailText } from '../support/mail-text';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ sendBatchSize: 10, sendBatchesInFlight: 1 });
});

afterAll(async () => {
  await h?.stop();
});

async function lead(body: Record<string, unknown>): Promise<number> {
  const res = await h.api('POST', '/v1/leads', { name: 'Lead', ...body });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function emailTemplate(extra: Record<string, unknown> = {}): Promise<number> {
  const res = await h.api('POST', '/v1/templates', {
    channel: 'email',
    title: `T ${uniqueSuffix()}`,
    subject: 'Hi {{name}}',
    from: 'news@example.test',
    bodyText: 'Hello',
    ...extra,
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function runOf(id: number): Promise<any> {
  return (await h.api('GET', `/v1/wizard-runs/${id}`)).body;
}

async function untilDone(id: number): Promise<any> {
  return waitFor(`run ${id} to complete with its waves`, async () => {
    const r = await runOf(id);
    return r.status === 'completed' && r.waves.finishedAt ? r : null;
  });
}

async function keyName(): Promise<string> {
  const res = await h.pool.query('SELECT name FROM api_key WHERE strpos($1, prefix) = 1', [h.apiKey]);
  return res.rows[0].name;
}

test('when an immediate run is created, then it answers preparing, records the key that created it and ignores a client-sent updatedBy', async () => {
  const tag = uniqueSuffix();
  const id = await lead({ email: `who.${tag}@example.test` });
  const created = await h.api('POST', '/v1/wizard-runs', {
    templateId: await emailTemplate(),
    leadIds: [id],
    updatedBy: 'mallory (typed by the client)',
  });
  expect(created.status).toBe(201);
  const name = await keyName();
  expect(created.body).toMatchObject({
    status: 'preparing',
    createdBy: name,
    updatedBy: name,
    cancelledBy: null,
  });
  const done = await untilDone(created.body.id);
  expect(done).toMatchObject({ createdBy: name, updatedBy: name });
  expect(JSON.stringify(done)).not.toContain('mallory');
});

test('when a run is cancelled, then it records the key that cancelled it as its last updater', async () => {
  const tag = uniqueSuffix();
  const id = await lead({ email: `cancel.${tag}@example.test` });
  const scheduledAt = new Date(Date.now() + 3600_000).toISOString();
  const created = await h.api('POST', '/v1/wizard-runs', {
    templateId: await emailTemplate(),
    leadIds: [id],
    scheduledAt,
  });
  expect(created.body.status).toBe('reserved');
  const deleted = await h.api('DELETE', `/v1/wizard-runs/${created.body.id}`);
  expect(deleted.status).toBe(202);
  const final = await waitFor('cancelled', async () => {
    const r = await runOf(created.body.id);
    return r.status === 'cancelled' ? r : null;
  });
  const name = await keyName();
  expect(final).toMatchObject({ cancelledBy: name, updatedBy: name, createdBy: name });
});

test('when the template and the segment change after reservation, then the run shows what went out, the name it had, and a page of the leads selected now', async () => {
  const tag = uniqueSuffix();
  const ids: number[] = [];
  for (let i = 0; i < 3; i++)
    ids.push(await lead({ email: `snap${i}.${tag}@example.test`, attributes: { tag } }));
  const tpl = await emailTemplate({
    title: `Snapshot ${tag}`,
    memo: 'first memo',
    bodyText: 'Original body',
  });
  const segment = await h.api('POST', '/v1/segments', {
    name: `audience ${tag}`,
    channel: 'email',
    filter: { all: [{ attribute: 'tag', op: 'eq', value: tag }] },
  });
  expect(segment.status).toBe(201);
  const created = await h.api('POST', '/v1/wizard-runs', { templateId: tpl, segmentId: segment.body.id });
  expect(created.status).toBe(201);
  await untilDone(created.body.id);

  expect(
    (await h.api('PATCH', `/v1/templates/${tpl}`, { subject: 'Changed', bodyText: 'Changed body' })).status,
  ).toBe(200);
  expect((await h.api('PATCH', `/v1/segments/${segment.body.id}`, { name: `renamed ${tag}` })).status).toBe(
    200,
  );
  expect((await h.api('DELETE', `/v1/templates/${tpl}`)).status).toBeLessThan(300);
  await lead({ email: `later.${tag}@example.test`, attributes: { tag } });

  const run = await runOf(created.body.id);
  expect(run.template.snapshot).toMatchObject({
    title: `Snapshot ${tag}`,
    memo: 'first memo',
    subject: 'Hi {{name}}',
    bodyText: 'Original body',
    from: 'news@example.test',
  });
  expect(run.target).toMatchObject({
    method: 'segment',
    segmentId: segment.body.id,
    segmentName: `audience ${tag}`,
    leadsUrl: `/v1/wizard-runs/${run.id}/segment-leads`,
  });
  const page1 = await h.api('GET', `${run.target.leadsUrl}?limit=3`);
  expect(page1.status).toBe(200);
  expect(page1.body).toMatchObject({ segmentId: segment.body.id, segmentName: `renamed ${tag}` });
  expect(page1.body.items.map((l: any) => l.id)).toEqual(ids);
  const page2 = await h.api('GET', `${run.target.leadsUrl}?limit=3&cursor=${page1.body.nextCursor}`);
  expect(page2.body.items.map((l: any) => l.email)).toEqual([`later.${tag}@example.test`]);
  expect(page2.body.nextCursor).toBeNull();
});

test('when a run of a few leads starts, then its planned completion shows while it runs, never as "about 0 minutes", and is hidden once completed', async () => {
  const tag = uniqueSuffix();
  const ids: number[] = [];
  for (let i = 0; i < 3; i++) {
    const a = `slow${i}.${tag}@example.test`;
    h.sink.script(a, { kind: 'slow', delayMs: 1500 });
    ids.push(await lead({ email: a }));
  }
  const created = await h.api('POST', '/v1/wizard-runs', {
    templateId: await emailTemplate(),
    leadIds: ids,
    statusMail: `status.${tag}@example.test`,
  });
  const running = await waitFor('the run to be running with its targets known', async () => {
    const r = await runOf(created.body.id);
    return r.status === 'running' ? r : null;
  });
  // Known from the start: 3 targets, one batch, nothing measured yet.
  expect(running.counters.targets).toBe(3);
  expect(running.progress.expectedCompletionAt).toEqual(expect.any(String));
  expect(Date.parse(running.progress.expectedCompletionAt)).toBeGreaterThan(
    Date.parse(running.startedAt) - 1,
  );
  expect(running.progress.summary).not.toMatch(/about 0 minutes/);
  const done = await untilDone(created.body.id);
  expect(done.progress).toMatchObject({ expectedCompletionAt: null, minutesLeft: null });

  // The end mail carries the run's figures (from the one computation).
  await waitFor('status mails', async () => h.sink.messagesTo(`status.${tag}@example.test`).length === 2);
  // Notices are in the account's language: Japanese by default (test/e2e/notices-i18n.test.ts).
  const end = h.sink.messagesTo(`status.${tag}@example.test`).find((m) => /【完了】/.test(m.subject))!;
  const text = await mailText(end);
  expect(text).toContain('到達率: 100 %');
  expect(text).toContain('開封率: テキストメールには開封計測用の画像が入らないため計測できません');
});

test('when a text-only email run is listed, shown and figured, then its opens are "not measurable" in all three', async () => {
  const tag = uniqueSuffix();
  const id = await lead({ email: `text.${tag}@example.test` });
  const created = await h.api('POST', '/v1/wizard-runs', {
    templateId: await emailTemplate(),
    leadIds: [id],
  });
  const run = await untilDone(created.body.id);
  expect(run.counters.openers).toBeNull();
  expect(run.figures).toMatchObject({
    opensMeasurable: false,
    openers: null,
    openRate: null,
    unopened: null,
  });
  const figures = (await h.api('GET', `/v1/wizard-runs/${run.id}/figures`)).body;
  expect(figures.opens.measurable).toBe(false);
  expect(figures.figures.all).toEqual(run.figures);
  const listed = (await h.api('GET', '/v1/wizard-runs?channel=email&limit=500')).body.items;
  expect(listed.find((r: any) => r.id === run.id).figures).toEqual(run.figures);
});

test('when single sends fail, then the email template error reply-to and the SMS template error address get a notice', async () => {
  const tag = uniqueSuffix();
  const emailLead = await lead({ email: `bounce550+${tag}@example.test` });
  const tpl = await emailTemplate({ errorReplyTo: `errors.${tag}@example.test` });
  const sent = await h.api('POST', '/v1/messages', { leadId: emailLead, templateId: tpl });
  expect(sent.status).toBe(201);
  const notice = await waitFor(
    'the email notice',
    async () => h.sink.messagesTo(`errors.${tag}@example.test`)[0],
  );
  expect(await mailText(notice)).toContain(`bounce550+${tag}@example.test`);

  // 0013: the SMSC refuses the destination at submit, always.
  const mobile = `090-${randomInt(1000, 10000)}-0013`;
  const smsLead = await lead({ phones: { mobile } });
  const smsTpl = await h.api('POST', '/v1/templates', {
    channel: 'sms',
    title: `SMS ${tag}`,
    smsBody: 'Hello',
    smsErrorAddress: `sms-errors.${tag}@example.test`,
  });
  expect(smsTpl.status).toBe(201);
  const sms = await h.api('POST', '/v1/messages', { leadId: smsLead, templateId: smsTpl.body.id });
  expect(sms.status).toBe(201);
  const smsNotice = await waitFor(
    'the SMS notice',
    async () => h.sink.messagesTo(`sms-errors.${tag}@example.test`)[0],
  );
  expect(smsNotice.subject).toMatch(/単発送信/);

  // A single send that is delivered tells no one.
  const okLead = await lead({ email: `fine.${tag}@example.test` });
  const okTpl = await emailTemplate({ errorReplyTo: `quiet.${tag}@example.test` });
  const ok = await h.api('POST', '/v1/messages', { leadId: okLead, templateId: okTpl });
  await waitFor(
    'the delivery',
    async () => (await h.api('GET', `/v1/sends/${ok.body.id}`)).body.result === 'delivered',
  );
  const handle = h.temporal.workflow.getHandle(`single-send-${ok.body.id}`);
  await handle.result();
  expect(h.sink.messagesTo(`quiet.${tag}@example.test`)).toHaveLength(0);
});

test('when runs are searched by segment, then only that segment’s runs come back, and an unknown status is a 400', async () => {
  const tag = uniqueSuffix();
  await lead({ email: `seg.${tag}@example.test`, attributes: { tag } });
  const tpl = await emailTemplate();
  const segs: number[] = [];
  for (const n of ['a', 'b']) {
    const s = await h.api('POST', '/v1/segments', {
      name: `${n} ${tag}`,
      channel: 'email',
      filter: { all: [{ attribute: 'tag', op: 'eq', value: tag }] },
    });
    segs.push(s.body.id);
  }
  const runs: number[] = [];
  for (const segmentId of segs)
    runs.push((await h.api('POST', '/v1/wizard-runs', { templateId: tpl, segmentId })).body.id);
  const found = await h.api('GET', `/v1/wizard-runs?segmentId=${segs[0]}`);
  expect(found.status).toBe(200);
  expect(found.body.items.map((r: any) => r.id)).toEqual([runs[0]]);
  const both = await h.api(
    'GET',
    `/v1/wizard-runs?segmentId=${segs[0]}&segmentId=${segs[1]}&sort=id&order=asc`,
  );
  expect(both.body.items.map((r: any) => r.id)).toEqual(runs);

  const bad = await h.api('GET', '/v1/wizard-runs?status=finished');
  expect(bad.status).toBe(400);
  expect(bad.body.field).toMatch(/status/);
  for (const id of runs) await untilDone(id);
});
