// Address quarantine end to end (issue 18): the lead's validity flag and the
// address's quarantine have separate thresholds (INVALID_AFTER_ERRORS 3,
// QUARANTINE_AFTER_ERRORS 5); a hard unknown user or closed account
// quarantines at once; phone numbers are quarantined from SMS receipts like
// email addresses from bounces, and SMS runs leave blocklisted and quarantined
// numbers out; an allowlisted address in an error state is sent to, and its
// send says so (reason 25, ignored error). Through the API, the worker, the
// SMTP sink and the SMSC simulator.
import { randomInt } from 'node:crypto';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ sendBatchSize: 10, sendBatchesInFlight: 2, smsReceiptTimeoutSeconds: 3 });
});

afterAll(async () => {
  await h?.stop();
});

/** Two retries a second apart: a soft error's waves end within the test. */
const FAST_RETRIES = { '*': { delaysMs: [1000, 1000] } };

async function lead(body: Record<string, unknown>): Promise<number> {
  const res = await h.api('POST', '/v1/leads', { name: 'Lead', ...body });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function template(channel: 'email' | 'sms'): Promise<number> {
  const res = await h.api(
    'POST',
    '/v1/templates',
    channel === 'email'
      ? {
          channel,
          title: `T ${uniqueSuffix()}`,
          subject: 'Hi',
          from: 'news@example.test',
          bodyText: 'Hello',
        }
      : { channel, title: `S ${uniqueSuffix()}`, smsBody: 'Hello from us' },
  );
  expect(res.status).toBe(201);
  return res.body.id;
}

/** A run to its end, retry waves included. */
async function run(body: Record<string, unknown>) {
  const created = await h.api('POST', '/v1/wizard-runs', { retrySchedules: FAST_RETRIES, ...body });
  expect(created.status).toBe(201);
  return waitFor(
    `run ${created.body.id} to finish`,
    async () => {
      const r = (await h.api('GET', `/v1/wizard-runs/${created.body.id}`)).body;
      return r.status === 'completed' && r.waves.finishedAt ? r : null;
    },
    90_000,
  );
}

/** The run's unsent entries by their codes (each also carries its reason's label, checked here). */
async function unsent(runId: number) {
  const items = (await h.api('GET', `/v1/wizard-runs/${runId}/unsent`)).body.items as Array<{
    leadId: number;
    address: string;
    reason: string;
    labels: { reason: string };
  }>;
  for (const i of items) expect(i.labels.reason).toMatch(/\S/);
  return items.map(({ labels: _labels, ...codes }) => codes);
}

async function sentList(runId: number) {
  return (await h.api('GET', `/v1/wizard-runs/${runId}/sends`)).body.items as any[];
}

async function addressStatus(channel: 'email' | 'sms', address: string) {
  const res = await h.api('GET', `/v1/addresses?channel=${channel}&address=${encodeURIComponent(address)}`);
  expect(res.status).toBe(200);
  return (res.body.items as any[]).find((a) => a.address === address.toLowerCase()) ?? null;
}

async function setStatus(channel: 'email' | 'sms', address: string, status: string) {
  const res = await h.api('POST', '/v1/addresses', { channel, address, status, reason: 'test' });
  expect([200, 201]).toContain(res.status);
  return res.body;
}

const leadOf = async (id: number) => (await h.api('GET', `/v1/leads/${id}`)).body;

describe('email: the two thresholds and the immediate quarantine', () => {
  test('when an address errs softly, then its lead turns invalid at the 3rd error and the address is quarantined only at the 5th, counting the errors of every lead with it', async () => {
    const address = `full.${uniqueSuffix()}@example.test`;
    // Mailbox full: soft (retried, its first attempt counted).
    h.sink.script(address, { kind: 'reject-rcpt', code: 452, enhanced: '4.2.2', text: 'Mailbox full' });
    const first = await lead({ email: address });
    const second = await lead({ email: address });
    for (let i = 1; i <= 3; i++) {
      const r = await run({ templateId: await template('email'), leadIds: [first] });
      expect(r.counters.errors).toBe(1);
    }
    expect(await leadOf(first)).toMatchObject({ emailValid: false, emailErrorCount: 3 });
    expect(await addressStatus('email', address)).toMatchObject({
      status: 'erroneous',
      errorCount: 3,
      errorType: 'soft',
    });

    // Another lead with the same address: its errors count toward the address's quarantine.
    await run({ templateId: await template('email'), leadIds: [second] });
    expect(await addressStatus('email', address)).toMatchObject({ status: 'erroneous', errorCount: 4 });
    await run({ templateId: await template('email'), leadIds: [second] });
    expect(await addressStatus('email', address)).toMatchObject({ status: 'quarantined', errorCount: 5 });
    expect(await leadOf(second)).toMatchObject({ emailValid: true, emailErrorCount: 2 });

    const held = await run({ templateId: await template('email'), leadIds: [first, second] });
    expect(held.counters).toMatchObject({ targets: 0, sent: 0 });
    expect(await unsent(held.id)).toEqual([
      { leadId: first, address, reason: 'invalid_address' },
      { leadId: second, address, reason: 'quarantined' },
    ]);
  });

  test('when a reply says unknown user (hard), then the address is quarantined at once while the lead is only counted; the next run leaves it out', async () => {
    const address = `gone.${uniqueSuffix()}@example.test`;
    h.sink.script(address, { kind: 'reject-rcpt', code: 550, enhanced: '5.1.1', text: 'no such user' });
    const id = await lead({ email: address });
    const r = await run({ templateId: await template('email'), leadIds: [id] });
    expect(r.counters.errors).toBe(1);
    expect(await addressStatus('email', address)).toMatchObject({
      status: 'quarantined',
      errorCount: 1,
      errorType: 'hard',
      errorReason: 'unknown_user',
    });
    expect(await leadOf(id)).toMatchObject({ emailValid: true, emailErrorCount: 1 });
    const next = await run({ templateId: await template('email'), leadIds: [id] });
    expect(await unsent(next.id)).toEqual([{ leadId: id, address, reason: 'quarantined' }]);
    expect(h.sink.messagesTo(address)).toHaveLength(0);
  });

  test('when a reply says the account is closed for good (hard), then the address is quarantined at once', async () => {
    const address = `closed.${uniqueSuffix()}@example.test`;
    h.sink.script(address, {
      kind: 'reject-rcpt',
      code: 550,
      enhanced: '5.2.1',
      text: 'The email account that you tried to reach is inactive',
    });
    const id = await lead({ email: address });
    await run({ templateId: await template('email'), leadIds: [id] });
    expect(await addressStatus('email', address)).toMatchObject({
      status: 'quarantined',
      errorType: 'hard',
      errorReason: 'invalid_account',
    });
  });
});

describe('reason 25: an allowlisted address is sent to despite its errors', () => {
  test('when a quarantined address and a lead with an invalid flag are allowlisted, then both are sent to, their sends say ignored error (25) in the language asked, and a clean allowlisted address is not marked', async () => {
    const tag = uniqueSuffix();
    const quarantined = `q.${tag}@example.test`;
    const invalid = `inv.${tag}@example.test`;
    const clean = `clean.${tag}@example.test`;
    h.sink.script(quarantined, { kind: 'reject-rcpt', code: 550, enhanced: '5.1.1', text: 'no such user' });
    // 5.1.6 (user not local, 42551): the lead's flag turns invalid at once.
    h.sink.script(invalid, { kind: 'reject-rcpt', code: 550, enhanced: '5.1.6', text: 'user has moved' });
    const q = await lead({ email: quarantined });
    const inv = await lead({ email: invalid });
    const ok = await lead({ email: clean });
    await run({ templateId: await template('email'), leadIds: [q, inv] });
    expect((await addressStatus('email', quarantined)).status).toBe('quarantined');
    expect(await leadOf(q)).toMatchObject({ emailValid: true });
    expect(await leadOf(inv)).toMatchObject({ emailValid: false });
    // Released, the address has no errors left: only the lead's flag would hold it back.
    expect(await setStatus('email', invalid, 'valid')).toMatchObject({ status: 'valid', errorCount: 0 });

    for (const a of [quarantined, invalid, clean]) await setStatus('email', a, 'allowlisted');
    h.sink.script(quarantined, { kind: 'accept' });
    h.sink.script(invalid, { kind: 'accept' });
    const r = await run({ templateId: await template('email'), leadIds: [q, inv, ok] });
    expect(r.counters).toMatchObject({ targets: 3, sent: 3, delivered: 3 });
    expect(await unsent(r.id)).toEqual([]);
    for (const a of [quarantined, invalid]) expect(h.sink.messagesTo(a)).toHaveLength(1);
    expect(h.sink.messagesTo(clean)).toHaveLength(1);

    const byLead = new Map((await sentList(r.id)).map((s) => [s.leadId, s]));
    const reason25 = { reason: 'ignored_error', technicalValue: 25, errorType: 'ignored' };
    expect(byLead.get(q)).toMatchObject({ result: 'delivered', ignoredError: reason25 });
    expect(byLead.get(inv)).toMatchObject({ result: 'delivered', ignoredError: reason25 });
    expect(byLead.get(ok)).toMatchObject({ result: 'delivered', ignoredError: null });

    const ja = await h.api('GET', `/v1/sends/${byLead.get(q).id}`, undefined, {
      headers: { 'accept-language': 'ja' },
    });
    expect(ja.body).toMatchObject({ ignoredError: reason25, labels: { ignoredError: '無視されたエラー' } });
    const en = await h.api('GET', `/v1/sends/${byLead.get(inv).id}`, undefined, {
      headers: { 'accept-language': 'en' },
    });
    expect(en.body.labels.ignoredError).toBe('ignored error');
    const plain = await h.api('GET', `/v1/sends/${byLead.get(ok).id}`);
    expect(plain.body.labels.ignoredError).toBeNull();

    // The delivery restarts the allowlisted address's count; it stays allowlisted.
    expect(await addressStatus('email', quarantined)).toMatchObject({ status: 'allowlisted', errorCount: 0 });
  });
});

/** A Japanese mobile number; `smpp` is its international digits, as the SMSC and the address list show it. */
function mobile(): { local: string; smpp: string } {
  const middle = String(randomInt(1000, 10000));
  const last = String(randomInt(6000, 10000));
  return { local: `090-${middle}-${last}`, smpp: `8190${middle}${last}` };
}

/** Until the run's SMS receipts are in (every send delivered or failed). */
async function receiptsIn(runId: number) {
  await waitFor(`receipts of run ${runId}`, async () => {
    const res = await h.pool.query(
      `SELECT count(*)::int AS n FROM send WHERE run_id = $1 AND result IN ('sent', 'pending')`,
      [runId],
    );
    return res.rows[0].n === 0;
  });
}

async function smsRun(leadIds: number[]) {
  const r = await run({ templateId: await template('sms'), leadIds });
  await receiptsIn(r.id);
  return r;
}

describe('SMS: phone numbers are quarantined, blocklisted and allowlisted like email addresses', () => {
  test('when a number fails softly five times, then it is erroneous until the 5th error, quarantined after it, and later runs leave it out', async () => {
    const n = mobile();
    h.smsc.script(n.smpp, { kind: 'fail', stat: 'UNDELIV', err: '034' }); // system failure: soft
    const id = await lead({ phones: { mobile: n.local } });
    for (let i = 1; i <= 4; i++) await smsRun([id]);
    expect(await addressStatus('sms', n.smpp)).toMatchObject({
      status: 'erroneous',
      errorCount: 4,
      errorType: 'soft',
      errorReason: 'unreachable',
    });
    await smsRun([id]);
    expect(await addressStatus('sms', n.smpp)).toMatchObject({ status: 'quarantined', errorCount: 5 });
    expect(h.smsc.messagesTo(n.smpp)).toHaveLength(5);
    // The number as the lead spells it finds the same status.
    const spelled = await h.api(
      'GET',
      `/v1/address-statuses?channel=sms&address=${encodeURIComponent(n.local)}`,
    );
    expect(spelled.body).toMatchObject({ address: n.smpp, status: 'quarantined', errorCount: 5 });

    const held = await smsRun([id]);
    expect(held.counters).toMatchObject({ targets: 0, sent: 0 });
    expect(await unsent(held.id)).toEqual([{ leadId: id, address: n.local, reason: 'quarantined' }]);
    expect(h.smsc.messagesTo(n.smpp)).toHaveLength(5);
  });

  test('when the receipt says unknown subscriber or a closed account (hard), then the number is quarantined at once; a handset that is off counts against nobody; a blocklisted number is never sent to', async () => {
    const unknown = mobile();
    const closed = mobile();
    const off = mobile();
    const blocked = mobile();
    h.smsc.script(unknown.smpp, { kind: 'fail', stat: 'UNDELIV', err: '005' });
    h.smsc.script(closed.smpp, { kind: 'fail', stat: 'UNDELIV', err: '009' });
    h.smsc.script(off.smpp, { kind: 'fail', stat: 'UNDELIV', err: '001' });
    // Set in its national spelling: stored and matched as international digits.
    expect(await setStatus('sms', blocked.local, 'blocklisted')).toMatchObject({
      address: blocked.smpp,
      status: 'blocklisted',
    });
    const ids = {
      unknown: await lead({ phones: { mobile: unknown.local } }),
      closed: await lead({ phones: { mobile: closed.local } }),
      off: await lead({ phones: { mobile: off.local } }),
      blocked: await lead({ phones: { mobile: blocked.local } }),
    };
    const first = await smsRun(Object.values(ids));
    expect(first.counters).toMatchObject({ targets: 3 });
    expect(await unsent(first.id)).toEqual([
      { leadId: ids.blocked, address: blocked.local, reason: 'blocklisted' },
    ]);
    expect(h.smsc.messagesTo(blocked.smpp)).toHaveLength(0);
    expect(await addressStatus('sms', unknown.smpp)).toMatchObject({
      status: 'quarantined',
      errorCount: 1,
      errorType: 'hard',
      errorReason: 'unknown_user',
    });
    expect(await addressStatus('sms', closed.smpp)).toMatchObject({
      status: 'quarantined',
      errorType: 'hard',
      errorReason: 'invalid_account',
    });
    expect(await addressStatus('sms', off.smpp)).toBeNull();

    const second = await smsRun(Object.values(ids));
    expect(second.counters).toMatchObject({ targets: 1 });
    expect(await unsent(second.id)).toEqual(
      [
        { leadId: ids.unknown, address: unknown.local, reason: 'quarantined' },
        { leadId: ids.closed, address: closed.local, reason: 'quarantined' },
        { leadId: ids.blocked, address: blocked.local, reason: 'blocklisted' },
      ].sort((a, b) => a.leadId - b.leadId),
    );
  });

  test('when a quarantined number is allowlisted, then it is sent to with ignored error (25), and its delivery restarts its count', async () => {
    const n = mobile();
    h.smsc.script(n.smpp, { kind: 'fail', stat: 'UNDELIV', err: '005' });
    const id = await lead({ phones: { mobile: n.local } });
    await smsRun([id]);
    expect((await addressStatus('sms', n.smpp)).status).toBe('quarantined');

    await setStatus('sms', n.local, 'allowlisted');
    h.smsc.script(n.smpp, { kind: 'deliver' });
    const r = await smsRun([id]);
    expect(r.counters.targets).toBe(1);
    expect(await unsent(r.id)).toEqual([]);
    const [send] = await sentList(r.id);
    expect(send).toMatchObject({
      result: 'delivered',
      ignoredError: { reason: 'ignored_error', technicalValue: 25, errorType: 'ignored' },
    });
    expect(h.smsc.messagesTo(n.smpp)).toHaveLength(2);
    expect(await addressStatus('sms', n.smpp)).toMatchObject({ status: 'allowlisted', errorCount: 0 });

    // Without errors left, the next send to the allowlisted number is not marked.
    const again = await smsRun([id]);
    expect((await sentList(again.id))[0]).toMatchObject({ result: 'delivered', ignoredError: null });
  });
});
