// Receipts in the forms other SMSCs send them (issue 21 §1, §3), end to end: a single
// SMS through the API, the worker's transport and the SMSC simulator, whose receipt
// settles the send only if the transport reads and answers it.
import { randomInt } from 'node:crypto';
import type { SmscSimulatorOptions } from '../../dev/smsc-simulator';
import { startHarness, uniqueSuffix, waitFor, type Harness } from '../support/harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({});
});

afterEach(() => {
  h.smsc.configureReceipts({
    receiptVia: 'deliver_sm',
    receiptTlvForm: 'terminated',
    receiptTextId: 'decimal',
  });
});

afterAll(async () => {
  await h?.stop();
});

async function sendOne(suffix: string): Promise<{ id: string; smpp: string }> {
  const middle = String(randomInt(1000, 10000));
  const lead = await h.api('POST', '/v1/leads', {
    name: 'Ken',
    phones: { mobile: `090-${middle}-${suffix}` },
  });
  const tpl = await h.api('POST', '/v1/templates', {
    channel: 'sms',
    title: `SMS ${uniqueSuffix()}`,
    smsBody: 'Your order shipped',
  });
  const res = await h.api('POST', '/v1/messages', { leadId: lead.body.id, templateId: tpl.body.id });
  expect(res.status).toBe(201);
  return { id: res.body.id, smpp: `8190${middle}${suffix}` };
}

const settled = (id: string) =>
  waitFor(`send ${id} to settle`, async () => {
    const s = (await h.api('GET', `/v1/sends/${id}`)).body;
    return s.result !== 'sent' && s.result !== 'pending' ? s : null;
  });

describe('receipts as other SMSCs send them', () => {
  test.each<[string, SmscSimulatorOptions]>([
    ['by data_sm', { receiptVia: 'data_sm' }],
    ['with an unterminated receipted_message_id', { receiptTlvForm: 'unterminated', receiptTextId: 'same' }],
    ['with a receipted_message_id of the SMSC’s own', { receiptTlvForm: 'unrelated' }],
  ])('when the receipt comes %s, then the send is delivered', async (_, form) => {
    h.smsc.configureReceipts(form);
    const { id, smpp } = await sendOne('7301');
    const send = await settled(id);

    expect(send).toMatchObject({ result: 'delivered' });
    const receipt = h.smsc.receipts().find((r) => r.handset === smpp);
    expect(receipt).toMatchObject({ command: form.receiptVia ?? 'deliver_sm', responseStatus: 0 });
  });

  test('when a data_sm receipt says the subscriber is absent, then the send is an error', async () => {
    h.smsc.configureReceipts({ receiptVia: 'data_sm' });
    const { id } = await sendOne('0002');
    expect(await settled(id)).toMatchObject({ result: 'error' });
  });
});
