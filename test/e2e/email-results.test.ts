// Delivery results end to end (SPEC 2–5): the SMTP sink is scripted per
// recipient over real SMTP, and the run's records, counters, validity flags,
// unsent reasons and retry waves are asserted through the API.
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';
import { mailText } from '../support/mail-text';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ sendBatchSize: 10, sendBatchesInFlight: 2 });
});

afterAll(async () => {
  await h?.stop();
});

/** Short schedules for the suite: two retries one second apart for every reason. */
const FAST_RETRIES = {
  '*': { delaysMs: [1000, 1000] },
  unreachable: { delaysMs: [1000, 1000] },
};

async function lead(email: string | null, extra: Record<string, unknown> = {}): Promise<number> {
  const res = await h.api('POST', '/v1/leads', { name: 'Lead', ...(email ? { email } : {}), ...extra });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function template(extra: Record<string, unknown> = {}): Promise<number> {
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

async function run(body: Record<string, unknown>, until: string[] = ['completed']) {
  const created = await h.api('POST', '/v1/wizard-runs', body);
  expect(created.status).toBe(201);
  return waitFor(
    `run ${created.body.id} to reach ${until.join('/')}`,
    async () => {
      const r = (await h.api('GET', `/v1/wizard-runs/${created.body.id}`)).body;
      // A completed run's retry waves go on after it: wait for them too.
      return until.includes(r.status) && (r.status !== 'completed' || r.waves.finishedAt) ? r : null;
    },
    90_000,
  );
}

async function sendsOf(runId: number) {
  const res = await h.pool.query('SELECT * FROM send WHERE run_id = $1 ORDER BY lead_id', [runId]);
  return res.rows;
}

async function attemptsOf(sendId: string) {
  return (await h.api('GET', `/v1/sends/${sendId}`)).body.attemptHistory as any[];
}

/** Run counters equal what the individual records say. */
async function expectCountersMatchRecords(runId: number) {
  const r = (await h.api('GET', `/v1/wizard-runs/${runId}`)).body;
  const rec = (
    await h.pool.query(
      `SELECT count(*) FILTER (WHERE result IN ('delivered', 'error'))::int AS sent,
              count(*) FILTER (WHERE result = 'delivered')::int AS delivered,
              count(*) FILTER (WHERE result = 'error')::int AS errors,
              count(*) FILTER (WHERE result = 'pre_error')::int AS pre_errors
         FROM send WHERE run_id = $1`,
      [runId],
    )
  ).rows[0];
  expect(r.counters).toMatchObject({
    sent: rec.sent,
    delivered: rec.delivered,
    errors: rec.errors,
    preErrors: rec.pre_errors,
  });
}

describe('a run to a mix of recipients', () => {
  test('when recipients accept, bounce hard, fill up, greylist, block and refuse permanently, then each send shows its code, type, reason and waves', async () => {
    const tag = uniqueSuffix();
    const addr = {
      ok: `ok.${tag}@example.test`,
      hard: `bounce550+${tag}@example.test`,
      full: `full+${tag}@example.test`,
      grey: `greylist+${tag}@example.test`,
      block: `block+${tag}@example.test`,
      notLocal: `moved.${tag}@example.test`,
    };
    h.sink.script(addr.notLocal, {
      kind: 'reject-rcpt',
      code: 551,
      enhanced: '5.1.6',
      text: 'user not local; please try <x@elsewhere.test>',
    });
    const ids: Record<string, number> = {};
    for (const [k, a] of Object.entries(addr)) ids[k] = await lead(a);
    const tpl = await template({ errorReplyTo: `errors.${tag}@example.test` });
    const final = await run({
      templateId: tpl,
      leadIds: Object.values(ids),
      retrySchedules: FAST_RETRIES,
      statusMail: `status.${tag}@example.test`,
    });

    const sends = Object.fromEntries((await sendsOf(final.id)).map((s) => [s.address, s]));
    expect(sends[addr.ok]).toMatchObject({ result: 'delivered', code: 40000, attempts: 1 });
    expect(sends[addr.hard]).toMatchObject({
      result: 'error',
      code: 42550,
      error_type: 'hard',
      error_reason: 'unknown_user',
      attempts: 1,
    });
    expect(sends[addr.notLocal]).toMatchObject({ result: 'error', code: 42551, attempts: 1 });
    // Soft: retried twice (FAST_RETRIES), then the schedule runs out → 41606 keeping the last reply.
    expect(sends[addr.full]).toMatchObject({
      result: 'error',
      code: 41606,
      error_type: 'soft',
      error_reason: 'mailbox_full',
      attempts: 3,
    });
    expect(sends[addr.full].detail).toContain('452 4.2.2');
    // Greylisted once, delivered by the first retry wave.
    expect(sends[addr.grey]).toMatchObject({ result: 'delivered', code: 40000, attempts: 2 });
    // A policy block after DATA is a block of the stream, not a bad recipient: soft, retried, never invalidating.
    expect(sends[addr.block]).toMatchObject({
      result: 'error',
      code: 41606,
      error_reason: 'refused',
      attempts: 3,
    });
    expect((await attemptsOf(sends[addr.block].id)).map((a) => a.code)).toEqual([42530, 42530, 41606]);

    const fullAttempts = await attemptsOf(sends[addr.full].id);
    expect(fullAttempts.map((a) => a.code)).toEqual([42552, 42552, 41606]);
    for (let i = 1; i < fullAttempts.length; i++) {
      expect(Date.parse(fullAttempts[i].at) - Date.parse(fullAttempts[i - 1].at)).toBeGreaterThanOrEqual(900);
    }
    expect((await attemptsOf(sends[addr.hard].id)).length).toBe(1);

    // The sink: one mail to each recipient that accepted, none to the others.
    expect(h.sink.messagesTo(addr.ok)).toHaveLength(1);
    expect(h.sink.messagesTo(addr.grey)).toHaveLength(1);
    expect(h.sink.messagesTo(addr.full)).toHaveLength(0);
    expect(h.sink.messagesTo(addr.hard)).toHaveLength(0);

    expect(final.counters).toMatchObject({ targets: 6, sent: 6, delivered: 2, errors: 4, preErrors: 0 });
    await expectCountersMatchRecords(final.id);

    // Validity: one error counts once (not per retry); a permanent error invalidates at once; a block does not count.
    const leadOf = async (id: number) => (await h.api('GET', `/v1/leads/${id}`)).body;
    expect(await leadOf(ids.hard!)).toMatchObject({ emailValid: true, emailErrorCount: 1 });
    expect(await leadOf(ids.full!)).toMatchObject({ emailValid: true, emailErrorCount: 1 });
    expect(await leadOf(ids.notLocal!)).toMatchObject({ emailValid: false });
    expect(await leadOf(ids.block!)).toMatchObject({ emailValid: true, emailErrorCount: 0 });
    const status = await h.api(
      'GET',
      `/v1/address-statuses?channel=email&address=${encodeURIComponent(addr.notLocal)}`,
    );
    expect(status.body).toMatchObject({ status: 'quarantined', errorCount: 1, source: 'bounce' });

    // Status mail on start and end, and one batched failure notice.
    await waitFor('status mails', async () => h.sink.messagesTo(`status.${tag}@example.test`).length === 2);
    const subjects = h.sink.messagesTo(`status.${tag}@example.test`).map((m) => m.subject);
    expect(subjects.some((s) => /【送信開始】/.test(s))).toBe(true);
    expect(subjects.some((s) => /【完了】/.test(s))).toBe(true);
    const notices = h.sink.messagesTo(`errors.${tag}@example.test`);
    expect(notices).toHaveLength(1);
    const noticeText = await mailText(notices[0]!);
    for (const a of [addr.hard, addr.full, addr.block, addr.notLocal]) expect(noticeText).toContain(a);
    expect(noticeText).not.toContain(addr.ok);
  });
});

describe('validity flags', () => {
  test('when an address bounces in three runs in a row, then it turns invalid, later runs exclude it, and a user can set it valid again', async () => {
    const tag = uniqueSuffix();
    const address = `full+${tag}@example.test`;
    // A soft refusal (mailbox full): counted, it never quarantines the address at once
    // (a hard unknown user would, issue 18), and the address's own threshold (5) is not reached.
    h.sink.script(address, { kind: 'reject-rcpt', code: 452, enhanced: '4.2.2', text: 'Mailbox full' });
    const id = await lead(address);
    for (let i = 1; i <= 3; i++) {
      const r = await run({ templateId: await template(), leadIds: [id], retrySchedules: FAST_RETRIES });
      expect(r.counters.errors).toBe(1);
      const l = (await h.api('GET', `/v1/leads/${id}`)).body;
      expect(l.emailErrorCount).toBe(i);
      expect(l.emailValid).toBe(i < 3);
    }
    const st = await h.api(
      'GET',
      `/v1/address-statuses?channel=email&address=${encodeURIComponent(address)}`,
    );
    expect(st.body).toMatchObject({
      status: 'erroneous',
      errorCount: 3,
      errorType: 'soft',
      reason: 'mailbox_full',
    });

    const fourth = await run({ templateId: await template(), leadIds: [id] });
    expect(fourth.counters).toMatchObject({ targets: 0, excluded: 1, sent: 0 });
    const unsent = await h.api('GET', `/v1/wizard-runs/${fourth.id}/unsent`);
    expect(unsent.body.items).toEqual([
      {
        leadId: id,
        address,
        reason: 'invalid_address',
        labels: { reason: '無効なアドレス(有効フラグが無効)' },
      },
    ]);
    expect(await sendsOf(fourth.id)).toHaveLength(0);

    const reset = await h.api('POST', `/v1/leads/${id}/email-validity`, { valid: true });
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ emailValid: true, emailErrorCount: 0 });
    const again = await h.api('POST', `/v1/leads/${id}/email-validity`, { valid: true });
    expect(again.status).toBe(409);
    const after = await h.api(
      'GET',
      `/v1/address-statuses?channel=email&address=${encodeURIComponent(address)}`,
    );
    expect(after.body.status).toBe('valid');
  });

  test('when a delivery follows errors, then the consecutive-error counter resets', async () => {
    const tag = uniqueSuffix();
    const address = `flaky.${tag}@example.test`;
    const id = await lead(address);
    // Soft (a hard unknown user would quarantine the address at once and hold later runs back).
    h.sink.script(address, { kind: 'reject-rcpt', code: 452, enhanced: '4.2.2', text: 'Mailbox full' });
    await run({ templateId: await template(), leadIds: [id], retrySchedules: FAST_RETRIES });
    expect((await h.api('GET', `/v1/leads/${id}`)).body.emailErrorCount).toBe(1);
    h.sink.script(address, { kind: 'accept' });
    await run({ templateId: await template(), leadIds: [id] });
    expect((await h.api('GET', `/v1/leads/${id}`)).body).toMatchObject({
      emailErrorCount: 0,
      emailValid: true,
    });
  });

  test.each([
    ['an unknown lead', '/v1/leads/999999/email-validity', { valid: true }, 404],
    ['a body that is not {valid: true}', '/v1/leads/1/email-validity', { valid: false }, 400],
  ])(
    'when a validity reset names %s, then a clear 4xx and nothing changes',
    async (_what, path, body, status) => {
      const res = await h.api('POST', path, body);
      expect(res.status).toBe(status);
      expect(typeof res.body.message).toBe('string');
    },
  );
});

describe('exclusions at preparation', () => {
  test('when leads lack permission, an address, are unsubscribed, blocklisted or already sent, then each is listed unsent with its reason and gets no send', async () => {
    const tag = uniqueSuffix();
    const ok = await lead(`fine.${tag}@example.test`);
    const noDm = await lead(`nodm.${tag}@example.test`, { dmPermission: false });
    const noAddress = await lead(null);
    const unsub = await lead(`unsub.${tag}@example.test`);
    await h.pool.query('UPDATE lead SET unsubscribed_email_at = now() WHERE id = $1', [unsub]);
    const blocked = await lead(`Blocked.${tag}@example.test`);
    await h.pool.query(
      `INSERT INTO address_status (channel, address, status, source) VALUES ('email', $1, 'blocklisted', 'manual')`,
      [`blocked.${tag}@example.test`],
    );
    const tpl = await template();
    const first = await run({
      templateId: tpl,
      leadIds: [ok, noDm, noAddress, unsub, blocked],
      permissionFilter: true,
    });
    expect(first.counters).toMatchObject({ targets: 1, excluded: 4, sent: 1, delivered: 1 });
    const unsent = (await h.api('GET', `/v1/wizard-runs/${first.id}/unsent`)).body.items;
    expect(Object.fromEntries(unsent.map((u: any) => [u.leadId, u.reason]))).toEqual({
      [noDm]: 'no_permission',
      [noAddress]: 'address_not_specified',
      [unsub]: 'unsubscribed',
      [blocked]: 'blocklisted',
    });
    expect((await sendsOf(first.id)).map((s) => s.lead_id)).toEqual([ok]);

    const second = await run({ templateId: tpl, leadIds: [ok] });
    expect(second.counters).toMatchObject({ targets: 0, excluded: 1 });
    expect((await h.api('GET', `/v1/wizard-runs/${second.id}/unsent`)).body.items[0].reason).toBe(
      'already_sent',
    );

    const third = await run({ templateId: tpl, leadIds: [ok], includeAlreadySent: true });
    expect(third.counters).toMatchObject({ targets: 1, sent: 1 });
  });
});

describe('cancelling', () => {
  test('when a running run is deleted, then sending stops, what was sent stays counted, and the counters match the sink', async () => {
    const tag = uniqueSuffix();
    const ids: number[] = [];
    for (let i = 0; i < 60; i++) {
      const a = `slowpoke${i}.${tag}@example.test`;
      h.sink.script(a, { kind: 'slow', delayMs: 150 });
      ids.push(await lead(a));
    }
    const created = await h.api('POST', '/v1/wizard-runs', { templateId: await template(), leadIds: ids });
    const runId = created.body.id;
    await waitFor(
      'some sends',
      async () => (await h.api('GET', `/v1/wizard-runs/${runId}`)).body.counters.sent >= 5,
    );

    const progress = await h.temporal.workflow.getHandle(created.body.taskId).query<any>('progress');
    expect(progress).toMatchObject({ runId, status: 'running', targets: 60 });
    expect(progress.summary).toMatch(/of 60 sent/);

    expect((await h.api('DELETE', `/v1/wizard-runs/${runId}`)).status).toBe(202);
    const final = await waitFor('cancellation', async () => {
      const r = (await h.api('GET', `/v1/wizard-runs/${runId}`)).body;
      return r.status === 'cancelled' ? r : null;
    });
    expect(final.counters.sent).toBeLessThan(60);
    expect(final.counters.sent).toBeGreaterThanOrEqual(5);
    await expectCountersMatchRecords(runId);
    // Nothing arrives after the run says cancelled, and the sink got exactly what was recorded:
    // once the workflow has closed, no batch of it is sending any more (it waits for them).
    await waitFor('the workflow to close', async () => {
      const d = await h.temporal.workflow.getHandle(created.body.taskId).describe();
      return d.status.name !== 'RUNNING';
    });
    const delivered = (await sendsOf(runId)).filter((s) => s.result === 'delivered');
    const received = ids.reduce(
      (n, _id, i) => n + h.sink.messagesTo(`slowpoke${i}.${tag}@example.test`).length,
      0,
    );
    expect(received).toBe(delivered.length);
    expect((await h.api('GET', `/v1/wizard-runs/${runId}`)).body.counters.sent).toBe(final.counters.sent);
    expect((await h.api('DELETE', `/v1/wizard-runs/${runId}`)).status).toBe(200);
    // After any cancel, no send keeps a next attempt that will never come.
    expect((await sendsOf(runId)).filter((s) => s.next_attempt_at !== null)).toEqual([]);
  });

  test('when a completed run waits for a retry wave and is deleted, then it stays completed, its waves are cancelled by that key and never happen', async () => {
    const tag = uniqueSuffix();
    const id = await lead(`full+${tag}@example.test`);
    const created = await h.api('POST', '/v1/wizard-runs', {
      templateId: await template(),
      leadIds: [id],
      retrySchedules: { '*': { delaysMs: [60_000] } },
    });
    const runId = created.body.id;
    const waiting = await waitFor('the wave to be planned', async () => {
      const p = await h.temporal.workflow.getHandle(created.body.taskId).query<any>('progress');
      return p.nextWaveAt ? p : null;
    });
    expect(waiting.summary).toMatch(/waiting for retry wave 1/);
    // 完了: the first pass is sent, the wave is still to come, shown apart.
    const before = (await h.api('GET', `/v1/wizard-runs/${runId}`)).body;
    expect(before).toMatchObject({ status: 'completed', progress: { expectedCompletionAt: null } });
    expect(before.waves).toMatchObject({
      pending: { count: 1, byReason: [{ reason: 'mailbox_full', count: 1 }] },
      finishedAt: null,
      cancelledAt: null,
    });
    expect(before.progress.summary).toMatch(/^completed: 1 of 1 sent; 1 waiting for a retry wave at /);

    const keyName = (await h.pool.query('SELECT name FROM api_key WHERE strpos($1, prefix) = 1', [h.apiKey]))
      .rows[0].name;
    expect(keyName).toMatch(/^test-/);
    const cancelled = await h.api('DELETE', `/v1/wizard-runs/${runId}`);
    expect(cancelled.status).toBe(202);
    expect(cancelled.body).toMatchObject({
      status: 'completed',
      updatedBy: keyName,
      waves: { pending: { count: 0 }, cancelledBy: keyName },
    });
    expect(cancelled.body.waves.cancelledAt).toEqual(expect.any(String));
    // No send keeps a next attempt that will never come; the workflow ends its waves and says so.
    await waitFor(
      'the waves to end',
      async () => (await h.api('GET', `/v1/wizard-runs/${runId}`)).body.waves.finishedAt,
    );
    const [send] = await sendsOf(runId);
    expect(send).toMatchObject({ attempts: 1, result: 'error', code: 42552, next_attempt_at: null });
    expect((await h.api('DELETE', `/v1/wizard-runs/${runId}`)).status).toBe(200);
  });
});

describe('single sends', () => {
  test('when one email is sent to a lead whose flag is invalid, then it goes out anyway and is recorded without a run', async () => {
    const tag = uniqueSuffix();
    const address = `single.${tag}@example.test`;
    const id = await lead(address);
    await h.pool.query('UPDATE lead SET email_valid = false WHERE id = $1', [id]);
    const res = await h.api('POST', '/v1/messages', { leadId: id, templateId: await template() });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      runId: null,
      leadId: id,
      address,
      result: 'delivered',
      code: 40000,
      attempts: 1,
    });
    expect(h.sink.messagesTo(address)).toHaveLength(1);
    const history = await h.api('GET', `/v1/leads/${id}/sends`);
    expect(history.body.items.map((s: any) => s.id)).toContain(res.body.id);
  });

  test('when a single send is refused, then it is classified like any other', async () => {
    const id = await lead(`bounce550+${uniqueSuffix()}@example.test`);
    const res = await h.api('POST', '/v1/messages', { leadId: id, templateId: await template() });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      result: 'error',
      code: 42550,
      errorType: 'hard',
      errorReason: 'unknown_user',
    });
  });

  test('when a single send names an unknown lead, then 400 names the field and nothing is recorded', async () => {
    const before = (await h.pool.query('SELECT count(*)::int AS n FROM send')).rows[0].n;
    const res = await h.api('POST', '/v1/messages', { leadId: 999999, templateId: await template() });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('body.leadId');
    expect((await h.pool.query('SELECT count(*)::int AS n FROM send')).rows[0].n).toBe(before);
  });
});

describe('bad schedule data', () => {
  test.each([
    [{ mailbox_full: { delaysMs: [-5] } }, /mailbox_full\.delaysMs\[0\]/],
    [{ no_such_reason: { delaysMs: [1000] } }, /no_such_reason/],
    [{ '*': { delaysMs: 'soon' } }, /delaysMs/],
  ])(
    'when a run carries malformed retry schedules %j, then 400 names the entry and nothing is stored',
    async (schedules, message) => {
      const before = (await h.pool.query('SELECT count(*)::int AS n FROM wizard_run')).rows[0].n;
      const res = await h.api('POST', '/v1/wizard-runs', {
        templateId: await template(),
        leadIds: [1],
        retrySchedules: schedules,
      });
      expect(res.status).toBe(400);
      expect(res.body.field).toBe('body.retrySchedules');
      expect(res.body.message).toMatch(message);
      expect((await h.pool.query('SELECT count(*)::int AS n FROM wizard_run')).rows[0].n).toBe(before);
    },
  );
});
