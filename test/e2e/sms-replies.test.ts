// Replies to SMS (issue 21 §7) end to end: a handset's mobile-originated message goes
// from the SMSC simulator over SMPP to the worker's transport, is recorded, and an
// opt-out keyword (Japanese or English) unsubscribes the number's leads from SMS runs.
import { randomInt } from 'node:crypto';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ sendBatchSize: 10, sendBatchesInFlight: 2 });
});

afterAll(async () => {
  await h?.stop();
});

/** A Japanese mobile number (090-XXXX-SSSS); suffixes 6xxx match no simulator convention. */
function mobile(suffix: string): { local: string; smpp: string } {
  const middle = String(randomInt(1000, 10000));
  return { local: `090-${middle}-${suffix}`, smpp: `8190${middle}${suffix}` };
}

async function lead(phones: Record<string, string>): Promise<number> {
  const res = await h.api('POST', '/v1/leads', { name: 'Hanako', phones });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function replyRow(handset: string, text: string) {
  return waitFor(`the reply ${JSON.stringify(text)} from ${handset}`, async () => {
    const res = await h.pool.query('SELECT * FROM sms_reply WHERE handset = $1 AND text = $2', [
      handset,
      text,
    ]);
    return res.rows[0] ?? null;
  });
}

const unsubscribedSms = async (id: number): Promise<string | null> =>
  (await h.api('GET', `/v1/leads/${id}`)).body.unsubscribed.sms;

describe('replies to SMS', () => {
  test.each<['gsm' | 'ucs2', string[], string]>([
    ['gsm', ['ST', 'OP'], 'STOP'],
    ['ucs2', ['ストッ', 'プ'], 'ストップ'],
  ])(
    'when a %s reply comes as concatenated parts (UDH) that spell a keyword only together, then the parts are joined and opt out',
    async (encoding, parts, keyword) => {
      const number = mobile('6101');
      const id = await lead({ mobile: number.local });

      const statuses = await h.smsc.sendConcatenatedMobileOriginated({
        from: number.smpp,
        to: 'DELIVERY',
        parts: [...parts],
        encoding,
      });
      expect(statuses).toEqual(parts.map(() => 0));

      const row = await replyRow(number.smpp, keyword);
      expect(row).toMatchObject({ kind: 'opt_out', keyword, lead_ids: [id] });
      const pieces = await h.pool.query('SELECT count(*)::int AS n FROM sms_reply WHERE handset = $1', [
        number.smpp,
      ]);
      expect(pieces.rows[0].n).toBe(1);
      expect(await unsubscribedSms(id)).not.toBeNull();
    },
  );

  test('when a handset replies 配信停止 in UCS-2, then every lead with that number is unsubscribed from SMS with the message and time kept', async () => {
    const number = mobile('6001');
    const byMobile = await lead({ mobile: number.local });
    const byWork = await lead({ work: `+81 ${number.local.slice(1).replace(/-/g, ' ')}` });
    const bystander = await lead({ mobile: mobile('6002').local });

    const status = await h.smsc.sendMobileOriginated({
      from: number.smpp,
      to: 'DELIVERY',
      text: '配信停止',
      encoding: 'ucs2',
    });
    expect(status).toBe(0);
    const row = await replyRow(number.smpp, '配信停止');

    expect(row).toMatchObject({
      kind: 'opt_out',
      keyword: '配信停止',
      data_coding: 8,
      recipient: 'DELIVERY',
    });
    expect([...row.lead_ids].sort()).toEqual([byMobile, byWork].sort());
    expect(await unsubscribedSms(byMobile)).toBe(row.received_at.toISOString());
    expect(await unsubscribedSms(byWork)).toBe(row.received_at.toISOString());
    expect(await unsubscribedSms(bystander)).toBeNull();
  });

  test('when a handset replies "Stop please" by data_sm in GSM, then its lead is excluded from the next SMS run as unsubscribed', async () => {
    const number = mobile('6003');
    const other = mobile('6004');
    const optedOut = await lead({ mobile: number.local });
    const stays = await lead({ mobile: other.local });

    await h.smsc.sendMobileOriginated({
      from: number.smpp,
      to: 'DELIVERY',
      text: 'Stop please',
      encoding: 'gsm',
      via: 'data_sm',
    });
    expect(await replyRow(number.smpp, 'Stop please')).toMatchObject({ kind: 'opt_out', keyword: 'STOP' });

    const template = await h.api('POST', '/v1/templates', {
      channel: 'sms',
      title: `SMS ${uniqueSuffix()}`,
      smsBody: 'Spring sale',
    });
    const created = await h.api('POST', '/v1/wizard-runs', {
      templateId: template.body.id,
      leadIds: [optedOut, stays],
    });
    expect(created.status).toBe(201);
    const final = await waitFor(`run ${created.body.id}`, async () => {
      const r = (await h.api('GET', `/v1/wizard-runs/${created.body.id}`)).body;
      return r.status === 'completed' ? r : null;
    });
    expect(final.counters).toMatchObject({ targets: 1, excluded: 1 });
    const unsent = (await h.api('GET', `/v1/wizard-runs/${final.id}/unsent`)).body.items;
    expect(unsent).toEqual([expect.objectContaining({ leadId: optedOut, reason: 'unsubscribed' })]);
    expect(h.smsc.messagesTo(number.smpp)).toHaveLength(0);
    expect(h.smsc.reassembled(other.smpp)).toEqual(['Spring sale']);
  });

  test('when a handset replies with anything else, then the reply is stored for operators and nobody is unsubscribed', async () => {
    const number = mobile('6005');
    const id = await lead({ mobile: number.local });
    const text = "Don't stop, what time is the sale?";

    await h.smsc.sendMobileOriginated({ from: number.smpp, to: 'DELIVERY', text, encoding: 'gsm' });

    expect(await replyRow(number.smpp, text)).toMatchObject({ kind: 'reply', keyword: '', lead_ids: [id] });
    expect(await unsubscribedSms(id)).toBeNull();

    const listed = await h.api('GET', `/v1/sms-replies?kind=reply&leadId=${id}`);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([
      expect.objectContaining({ handset: number.smpp, text, kind: 'reply', keyword: '', leadIds: [id] }),
    ]);
    const optOuts = (await h.api('GET', `/v1/sms-replies?kind=opt_out&handset=${number.smpp}`)).body.items;
    expect(optOuts).toEqual([]);
  });
});
