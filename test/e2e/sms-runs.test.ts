// SMS end to end (SPEC §6): runs and single sends through the API, the
// worker's SMPP transport and the local SMSC simulator, whose number
// conventions (last four digits) make messages fail on purpose. Receipts,
// the receipt timeout, pre-errors, exclusions, short URLs and the run figures
// are asserted through the API, the records and what the SMSC received.
import { randomInt } from 'node:crypto';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';
import { ratePercent } from '../../domain/figures';

let h: Harness;

beforeAll(async () => {
  // A short receipt window so the "could not be confirmed" case settles within the test.
  h = await startHarness({ sendBatchSize: 10, sendBatchesInFlight: 2, smsReceiptTimeoutSeconds: 3 });
});

afterAll(async () => {
  await h?.stop();
});

/** A Japanese mobile number (090-XXXX-SSSS) whose last four digits pick the simulator's behaviour. */
function mobile(suffix: string): { local: string; smpp: string } {
  const middle = String(randomInt(1000, 10000));
  return { local: `090-${middle}-${suffix}`, smpp: `8190${middle}${suffix}` };
}

async function lead(phones: Record<string, string>, extra: Record<string, unknown> = {}): Promise<number> {
  const res = await h.api('POST', '/v1/leads', { name: 'Taro', phones, ...extra });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function smsTemplate(smsBody: string, extra: Record<string, unknown> = {}): Promise<number> {
  const res = await h.api('POST', '/v1/templates', {
    channel: 'sms',
    title: `SMS ${uniqueSuffix()}`,
    smsBody,
    ...extra,
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function run(body: Record<string, unknown>) {
  const created = await h.api('POST', '/v1/wizard-runs', body);
  expect(created.status).toBe(201);
  return waitFor(
    `run ${created.body.id} to complete`,
    async () => {
      const r = (await h.api('GET', `/v1/wizard-runs/${created.body.id}`)).body;
      return r.status === 'completed' ? r : null;
    },
    90_000,
  );
}

async function sendsByLead(runId: number): Promise<Map<number, any>> {
  const res = await h.pool.query('SELECT * FROM send WHERE run_id = $1', [runId]);
  return new Map(res.rows.map((s) => [s.lead_id, s]));
}

/** Until no send of the run awaits its receipt (numbers that never confirm excepted). */
async function receiptsSettled(runId: number, except: string[] = []) {
  await waitFor(`receipts of run ${runId}`, async () => {
    const res = await h.pool.query(
      `SELECT count(*)::int AS n FROM send WHERE run_id = $1 AND result = 'sent' AND NOT (address = ANY($2::text[]))`,
      [runId, except],
    );
    return res.rows[0].n === 0;
  });
}

const runOf = async (id: number) => (await h.api('GET', `/v1/wizard-runs/${id}`)).body;

describe('an SMS run to a mix of numbers and bodies', () => {
  test('when bodies are short, kana, long, too long or empty and numbers are landlines, malformed, absent or failing a part, then each send shows SPEC wording, its segments and the run counts parts', async () => {
    const n = {
      gsm: mobile('5001'),
      kana: mobile('5002'),
      long: mobile('5003'),
      absent: mobile('0002'),
      partFails: mobile('0021'),
      invalid: mobile('0013'),
      throttled: mobile('0011'),
      tooLong: mobile('5004'),
      empty: mobile('5005'),
      emoji: mobile('5006'),
    };
    const longText = 'Sale! '.repeat(40).trim(); // 239 GSM characters: 2 parts
    const ids = {
      gsm: await lead(
        { mobile: n.gsm.local },
        { attributes: { msg: 'Hello Taro, your order has shipped.' } },
      ),
      kana: await lead(
        { mobile: n.kana.local },
        { attributes: { msg: 'こんにちは、ご注文の商品を発送しました。' } },
      ),
      long: await lead({ mobile: n.long.local }, { attributes: { msg: longText } }),
      absent: await lead({ mobile: n.absent.local }, { attributes: { msg: 'Are you there?' } }),
      partFails: await lead({ mobile: n.partFails.local }, { attributes: { msg: longText } }),
      invalid: await lead({ mobile: n.invalid.local }, { attributes: { msg: 'Nobody home' } }),
      throttled: await lead({ mobile: n.throttled.local }, { attributes: { msg: 'Slowly please' } }),
      tooLong: await lead({ mobile: n.tooLong.local }, { attributes: { msg: 'x'.repeat(661) } }),
      empty: await lead({ mobile: n.empty.local }, { attributes: { msg: '   ' } }),
      emoji: await lead({ mobile: n.emoji.local }, { attributes: { msg: '👍' } }),
      landline: await lead({ mobile: '03-1234-5678' }, { attributes: { msg: 'Hi' } }),
      malformed: await lead({ mobile: '090-12' }, { attributes: { msg: 'Hi' } }),
    };
    const tpl = await smsTemplate('{{attr.msg}}');
    const final = await run({ templateId: tpl, leadIds: Object.values(ids), allowLongSms: true });
    await receiptsSettled(final.id);

    const sends = await sendsByLead(final.id);
    const send = (id: number) => sends.get(id)!;
    expect(send(ids.gsm)).toMatchObject({
      result: 'delivered',
      detail: 'delivered',
      sms_segments: 1,
      body: 'Hello Taro, your order has shipped.',
    });
    expect(send(ids.gsm).delivered_at).toBeInstanceOf(Date);
    expect(send(ids.kana)).toMatchObject({ result: 'delivered', sms_segments: 1 });
    expect(send(ids.long)).toMatchObject({ result: 'delivered', sms_segments: 2 });
    expect(send(ids.emoji)).toMatchObject({ result: 'delivered', sms_segments: 1 });
    expect(send(ids.throttled)).toMatchObject({ result: 'delivered', sms_segments: 1 });
    expect(send(ids.absent)).toMatchObject({
      result: 'error',
      detail: 'handset out of range or switched off',
    });
    expect(send(ids.partFails)).toMatchObject({
      result: 'error',
      detail: 'some of the split messages failed',
      sms_segments: 2,
    });
    expect(send(ids.invalid)).toMatchObject({ result: 'error', detail: 'sending failed' });
    expect(send(ids.tooLong)).toMatchObject({
      result: 'pre_error',
      detail: 'over the maximum of 660 characters',
    });
    expect(send(ids.empty)).toMatchObject({ result: 'pre_error', detail: 'the message body is empty' });
    expect(send(ids.landline)).toMatchObject({ result: 'pre_error', detail: 'not a mobile phone number' });
    expect(send(ids.malformed)).toMatchObject({ result: 'pre_error', detail: 'not a mobile phone number' });

    // What the handsets got: UCS-2 for kana, two concatenated GSM parts for the long text.
    const [kanaPart] = h.smsc.messagesTo(n.kana.smpp);
    expect(kanaPart?.dataCoding).toBe(8);
    // GSM 03.38, the SMSC's default alphabet (data_coding 0); not UCS-2 (8).
    expect(h.smsc.messagesTo(n.gsm.smpp).map((m) => m.dataCoding)).toEqual([0]);
    expect(h.smsc.messagesTo(n.long.smpp)).toHaveLength(2);
    expect(h.smsc.reassembled(n.long.smpp)).toEqual([longText]);
    expect(h.smsc.reassembled(n.throttled.smpp)).toEqual(['Slowly please']);
    expect(h.smsc.messagesTo(n.tooLong.smpp)).toHaveLength(0);
    // Every part's id is kept, the first is the send's message id.
    const parts = await h.pool.query('SELECT seq, message_id FROM sms_part WHERE send_id = $1 ORDER BY seq', [
      send(ids.long).id,
    ]);
    expect(parts.rows.map((p) => p.seq)).toEqual([1, 2]);
    expect(parts.rows[0].message_id).toBe(send(ids.long).message_id);

    // sent = parts accepted: gsm 1, kana 1, long 2, emoji 1, throttled 1, absent 1, partFails 2; invalid none.
    const figures = await runOf(final.id);
    expect(figures.counters).toMatchObject({ targets: 12, sent: 9, delivered: 5, errors: 3, preErrors: 4 });
    expect(figures.progress).toMatchObject({ done: 12, remaining: 0 });
    // One computation of the figures: the run, the run list and /figures agree, sent in parts (and say so;
    // 8 messages: the refused destination counts as a message sent with no part accepted),
    // the delivery rate over messages, opens not measurable.
    expect(figures.figures).toMatchObject({
      sent: 9,
      sentUnit: 'parts',
      sentMessages: 8,
      delivered: 5,
      deliveryRate: ratePercent(5, 8),
      opensMeasurable: false,
      openers: null,
      openRate: null,
    });
    expect(figures.counters.openers).toBeNull();
    const figuresRoute = (await h.api('GET', `/v1/wizard-runs/${final.id}/figures`)).body;
    expect(figuresRoute.figures.all).toEqual(figures.figures);
    const listed = (await h.api('GET', `/v1/wizard-runs?channel=sms&limit=500`)).body.items;
    expect(listed.find((r: { id: number }) => r.id === final.id).figures).toEqual(figures.figures);

    const detail = (await h.api('GET', `/v1/sends/${send(ids.long).id}`)).body;
    expect(detail).toMatchObject({ channel: 'sms', body: longText, smsSegments: 2, result: 'delivered' });
    expect(detail.deliveredAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
  });

  test('when long messages are not allowed, then 71 characters are a pre-error and 70 are sent as one message', async () => {
    const at70 = mobile('5101');
    const at71 = mobile('5102');
    const a = await lead({ mobile: at70.local }, { attributes: { msg: 'あ'.repeat(70) } });
    const b = await lead({ mobile: at71.local }, { attributes: { msg: 'あ'.repeat(71) } });
    const final = await run({ templateId: await smsTemplate('{{attr.msg}}'), leadIds: [a, b] });
    const sends = await sendsByLead(final.id);
    expect(sends.get(a)).toMatchObject({ sms_segments: 1 });
    expect(['sent', 'delivered']).toContain(sends.get(a).result);
    expect(sends.get(b)).toMatchObject({
      result: 'pre_error',
      detail: 'over the 1-message (70 characters) limit, long messages not allowed',
    });
    expect(h.smsc.messagesTo(at71.smpp)).toHaveLength(0);
  });

  test('when a number never gets a receipt, then after the receipt timeout it is "the result could not be confirmed" and counted as an error', async () => {
    const silent = mobile('0001');
    const id = await lead({ mobile: silent.local });
    const final = await run({ templateId: await smsTemplate('No receipt for this one'), leadIds: [id] });
    expect((await sendsByLead(final.id)).get(id)).toMatchObject({ result: 'sent' });
    const settled = await waitFor(
      'the receipt timeout',
      async () => {
        const s = (await sendsByLead(final.id)).get(id);
        return s.result !== 'sent' ? s : null;
      },
      20_000,
    );
    expect(settled).toMatchObject({
      result: 'error',
      detail: 'the result could not be confirmed',
      delivered_at: null,
    });
    expect((await runOf(final.id)).counters).toMatchObject({ sent: 1, delivered: 0, errors: 1 });
  });

  test('when the SMSC drops the connection on a submit, then the transport binds again and the message is delivered', async () => {
    const dropper = mobile('0014');
    const id = await lead({ mobile: dropper.local });
    const bindsBefore = h.smsc.bindCount();
    const final = await run({ templateId: await smsTemplate('Through a reconnect'), leadIds: [id] });
    await receiptsSettled(final.id);
    expect((await sendsByLead(final.id)).get(id)).toMatchObject({ result: 'delivered' });
    expect(h.smsc.bindCount()).toBeGreaterThan(bindsBefore);
    expect(h.smsc.reassembled(dropper.smpp)).toEqual(['Through a reconnect']);
  });
});

describe('SMS targets', () => {
  test('when a run uses the work phone field with the permission filter, then leads without SMS permission, unsubscribed, without that field or with the same number are excluded with their reasons', async () => {
    const work = mobile('5201');
    const other = mobile('5202');
    const ok = await lead({ mobile: other.local, work: work.local });
    const dup = await lead({ work: `+81 ${work.local.slice(1).replace(/-/g, ' ')}` });
    const noPermission = await lead({ work: mobile('5203').local }, { smsPermission: false });
    const noWork = await lead({ mobile: mobile('5204').local });
    const unsubscribed = await lead({ work: mobile('5205').local });
    await h.pool.query('UPDATE lead SET unsubscribed_sms_at = now() WHERE id = $1', [unsubscribed]);

    const final = await run({
      templateId: await smsTemplate('Work hours changed'),
      leadIds: [ok, dup, noPermission, noWork, unsubscribed],
      phoneField: 'work',
      permissionFilter: true,
    });
    expect(final.counters).toMatchObject({ targets: 1, excluded: 4 });
    const unsent = (await h.api('GET', `/v1/wizard-runs/${final.id}/unsent`)).body.items;
    const reasons = Object.fromEntries(unsent.map((u: any) => [u.leadId, u.reason]));
    expect(reasons).toEqual({
      [dup]: 'duplicate',
      [noPermission]: 'no_permission',
      [noWork]: 'address_not_specified',
      [unsubscribed]: 'unsubscribed',
    });
    expect(h.smsc.reassembled(work.smpp)).toEqual(['Work hours changed']);
    expect(h.smsc.messagesTo(other.smpp)).toHaveLength(0);
  });

  test('when the same template went to a lead before, then a second run excludes it as already sent unless told to include it', async () => {
    const id = await lead({ mobile: mobile('5301').local });
    const tpl = await smsTemplate('Once only');
    await run({ templateId: tpl, leadIds: [id] });
    const again = await run({ templateId: tpl, leadIds: [id] });
    expect(again.counters).toMatchObject({ targets: 0, excluded: 1 });
    const included = await run({ templateId: tpl, leadIds: [id], includeAlreadySent: true });
    expect(included.counters).toMatchObject({ targets: 1, excluded: 0 });
  });
});

describe('SMS click counting', () => {
  test('when click counting is on, then the SMSC receives a short URL on our domain that redirects to the original and counts the click', async () => {
    const n = mobile('5401');
    const id = await lead({ mobile: n.local });
    const tpl = await smsTemplate('Sale: https://shop.example.test/sale?x=1 today', { clickTracking: true });
    const final = await run({ templateId: tpl, leadIds: [id], allowLongSms: true });
    const [text] = h.smsc.reassembled(n.smpp);
    const prefix = `${h.config.publicBaseUrl}/s/`;
    const match = new RegExp(`${prefix.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}([A-Za-z0-9_-]{22})`).exec(
      text ?? '',
    );
    expect(match).not.toBeNull();
    expect(text).not.toContain('shop.example.test');
    const send = (await sendsByLead(final.id)).get(id);
    expect(send.body).toBe(text);

    const res = await fetch(`${h.baseUrl}/s/${match![1]}`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('https://shop.example.test/sale?x=1');
    const after = await h.pool.query('SELECT click_count FROM send WHERE id = $1', [send.id]);
    expect(after.rows[0].click_count).toBe(1);
    expect((await runOf(final.id)).counters).toMatchObject({ totalClicks: 1, clickers: 1 });

    const unknown = await fetch(`${h.baseUrl}/s/${'A'.repeat(22)}`, { redirect: 'manual' });
    expect(unknown.status).toBe(404);
  });

  test('when a short URL cannot be stored, then the send is the pre-error "short URL generation failed" and nothing reaches the SMSC', async () => {
    // A real database fault for this test's URL only: a trigger refusing its tracked_link row.
    const marker = `fail-${uniqueSuffix()}`;
    const fn = `refuse_${marker.replace(/-/g, '_')}`;
    await h.pool.query(
      `CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN IF NEW.url LIKE '%${marker}%' THEN RAISE EXCEPTION 'refused by test'; END IF; RETURN NEW; END $$`,
    );
    await h.pool.query(
      `CREATE TRIGGER ${fn} BEFORE INSERT ON tracked_link FOR EACH ROW EXECUTE FUNCTION ${fn}()`,
    );
    try {
      const n = mobile('5402');
      const id = await lead({ mobile: n.local });
      const tpl = await smsTemplate(`See https://shop.example.test/${marker}`, { clickTracking: true });
      const final = await run({ templateId: tpl, leadIds: [id], allowLongSms: true });
      expect((await sendsByLead(final.id)).get(id)).toMatchObject({
        result: 'pre_error',
        detail: 'short URL generation failed',
      });
      expect(h.smsc.messagesTo(n.smpp)).toHaveLength(0);
      expect(final.counters).toMatchObject({ preErrors: 1, sent: 0 });
    } finally {
      await h.pool.query(`DROP TRIGGER ${fn} ON tracked_link`);
      await h.pool.query(`DROP FUNCTION ${fn}()`);
    }
  });
});

describe('single SMS sends', () => {
  test("when a single send uses an SMS template, then the lead's mobile gets it and the send history shows body, segments and delivery", async () => {
    const n = mobile('5501');
    const id = await lead({ mobile: n.local });
    const tpl = await smsTemplate('Your code is 1234, {{name}}');
    const res = await h.api('POST', '/v1/messages', { leadId: id, templateId: tpl });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      channel: 'sms',
      runId: null,
      body: 'Your code is 1234, Taro',
      smsSegments: 1,
    });
    const delivered = await waitFor('the receipt', async () => {
      const s = (await h.api('GET', `/v1/sends/${res.body.id}`)).body;
      return s.result === 'delivered' ? s : null;
    });
    expect(delivered.deliveredAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    expect(h.smsc.reassembled(n.smpp)).toEqual(['Your code is 1234, Taro']);
  });

  test('when the lead has no mobile number, then the single SMS is the pre-error "not a mobile phone number"', async () => {
    const id = await lead({ work: '03-1234-5678' });
    const res = await h.api('POST', '/v1/messages', { leadId: id, templateId: await smsTemplate('Hello') });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ result: 'pre_error', detail: 'not a mobile phone number' });
  });
});
