// Drives the real SMPP client (channels/sms) against the local SMSC simulator over TCP,
// so encodings, concatenation, receipts and connection failures are the ones the SMS
// channel will actually see. No Temporal or Postgres needed.
import { randomInt } from 'node:crypto';
import {
  createSmsTransport,
  type SmsReceipt,
  type SmsReply,
  type SmsTransport,
  type SmsTransportOptions,
} from '../../channels/sms/transport';
import { SmscSimulator, type SmscSimulatorOptions } from '../../dev/smsc-simulator';
import {
  SUBMIT_NO_RESPONSE,
  SUBMIT_NOT_SENT,
  SUBMIT_SKIPPED,
  SmppStatus,
  combinePartOutcomes,
} from '../../domain/smpp-status';
import { SMS_ERROR_DETAIL, splitSegments } from '../../domain/sms-segments';

let smsc: SmscSimulator;
let port: number;
const clients: SmsTransport[] = [];

async function startSmsc(opts: SmscSimulatorOptions = {}): Promise<void> {
  smsc = new SmscSimulator(opts);
  ({ port } = await smsc.start());
}

function client(opts: Partial<SmsTransportOptions> = {}): SmsTransport {
  const t = createSmsTransport({
    host: '127.0.0.1',
    port,
    systemId: 'orchestrator',
    password: 'secret',
    reconnectMs: 50,
    reconnectMaxMs: 200,
    // Generous: the machine may be busy; tests of the timeout itself pass their own.
    submitTimeoutMs: 30_000,
    ...opts,
  });
  clients.push(t);
  return t;
}

function collectReceipts(t: SmsTransport): SmsReceipt[] {
  const receipts: SmsReceipt[] = [];
  t.onReceipt((r) => receipts.push(r));
  return receipts;
}

async function eventually(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A Japanese mobile number whose last four digits (7xxx) match no simulator convention. */
function freshNumber(): string {
  return `8190${randomInt(1000, 9999)}7${randomInt(100, 999)}`;
}

function message(to: string, text: string) {
  return { to, from: 'Orchestra', text, referenceId: `ref-${randomInt(1e9)}` };
}

beforeEach(async () => {
  await startSmsc();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await smsc.stop();
});

describe('encoding and splitting', () => {
  test('when a short GSM message is sent, then it goes as one data_coding 0 part with € and { intact', async () => {
    const to = freshNumber();
    const text = 'Price {net}: 5€ [~|^\\] @home';
    const result = await client().submit(message(to, text));

    expect(result).toMatchObject({ outcome: 'submitted', detail: '', reason: '' });
    expect(result.parts).toEqual([{ messageId: expect.any(String), status: 0 }]);
    const [received, ...more] = smsc.messagesTo(to);
    expect(more).toHaveLength(0);
    expect(received).toMatchObject({
      dataCoding: 0x00,
      esmClass: 0x00,
      udh: null,
      registeredDelivery: 1,
      text,
    });
  });

  test('when a kana message is sent, then it goes as UCS-2 (data_coding 8)', async () => {
    const to = freshNumber();
    const text = 'こんにちは、予約の確認です。👍';
    const result = await client().submit(message(to, text));

    expect(result.outcome).toBe('submitted');
    expect(smsc.messagesTo(to)).toEqual([expect.objectContaining({ dataCoding: 0x08, udh: null, text })]);
  });

  test('when a long GSM message is sent, then it is split into 153-septet parts with one UDH reference', async () => {
    const to = freshNumber();
    const text = Array.from({ length: 400 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    const result = await client().submit(message(to, text));

    expect(result.outcome).toBe('submitted');
    expect(result.parts).toHaveLength(3);
    expect(new Set(result.parts.map((p) => p.messageId)).size).toBe(3);
    const parts = smsc.messagesTo(to);
    expect(parts.map((p) => p.text.length)).toEqual([153, 153, 94]);
    const ref = parts[0]!.udh!.ref;
    expect(parts.map((p) => p.udh)).toEqual([1, 2, 3].map((seq) => ({ ref, total: 3, seq })));
    expect(parts.every((p) => p.esmClass === 0x40 && p.dataCoding === 0x00)).toBe(true);
    expect(smsc.reassembled(to)).toEqual([text]);
  });

  test('when a long kana message is sent, then it is split into 67-character UCS-2 parts', async () => {
    const to = freshNumber();
    const text = 'あいうえおかきくけこ'.repeat(15);
    const result = await client().submit(message(to, text));

    expect(result.outcome).toBe('submitted');
    const parts = smsc.messagesTo(to);
    expect(parts.map((p) => p.text.length)).toEqual([67, 67, 16]);
    expect(parts.every((p) => p.esmClass === 0x40 && p.dataCoding === 0x08)).toBe(true);
    expect(smsc.reassembled(to)).toEqual([text]);
  });

  test('when an extension character would straddle a part boundary, then it moves whole to the next part', async () => {
    const to = freshNumber();
    const text = `${'a'.repeat(152)}€${'{'.repeat(80)}`;
    await client().submit(message(to, text));

    const parts = smsc.messagesTo(to).map((p) => p.text);
    expect(parts).toEqual(splitSegments(text));
    expect(parts[0]).toBe('a'.repeat(152));
    expect(parts[1]!.startsWith('€{')).toBe(true);
    expect(smsc.reassembled(to)).toEqual([text]);
  });

  test('when two long messages go to the same handset, then they carry different references', async () => {
    const to = freshNumber();
    const t = client();
    const first = 'x'.repeat(200);
    const second = 'y'.repeat(200);
    await t.submit(message(to, first));
    await t.submit(message(to, second));

    const refs = new Set(smsc.messagesTo(to).map((p) => p.udh?.ref));
    expect(refs.size).toBe(2);
    expect(smsc.reassembled(to)).toEqual([first, second]);
  });
});

describe('delivery receipts', () => {
  test('when the handset receives the message, then a DELIVRD receipt names the submitted message id', async () => {
    const to = freshNumber();
    const t = client();
    const receipts = collectReceipts(t);
    const result = await t.submit(message(to, 'hello'));
    await eventually(() => receipts.length === 1, 'the receipt');

    expect(receipts[0]).toMatchObject({
      messageId: result.parts[0]!.messageId,
      stat: 'DELIVRD',
      err: '000',
      delivered: true,
      correlated: true,
      handset: to,
      outcome: { result: 'delivered', detail: 'delivered' },
    });
    expect(receipts[0]!.doneAt).toBeInstanceOf(Date);
  });

  test('when the receipt has no TLV and a decimal id, then it still correlates to the hex submit id', async () => {
    await smsc.stop();
    await startSmsc({ receiptTlv: false, receiptTextId: 'decimal', messageIds: 'hex' });
    const to = freshNumber();
    const t = client();
    const receipts = collectReceipts(t);
    const result = await t.submit(message(to, 'hello'));
    await eventually(() => receipts.length === 1, 'the receipt');

    const submittedId = result.parts[0]!.messageId!;
    expect(smsc.receipts()[0]!.text).toContain(`id:${BigInt(`0x${submittedId}`).toString(10)} `);
    expect(receipts[0]).toMatchObject({ messageId: submittedId, correlated: true, delivered: true });
  });

  test('when the subscriber is absent, then the receipt says the handset is out of range or switched off', async () => {
    const to = freshNumber();
    smsc.script(to, { kind: 'fail', stat: 'UNDELIV', err: '001' });
    const t = client();
    const receipts = collectReceipts(t);
    const result = await t.submit(message(to, 'hello'));
    await eventually(() => receipts.length === 1, 'the receipt');

    expect(result.outcome).toBe('submitted');
    expect(receipts[0]).toMatchObject({
      messageId: result.parts[0]!.messageId,
      stat: 'UNDELIV',
      err: '001',
      delivered: false,
      outcome: { result: 'error', reason: 'not_connected', detail: SMS_ERROR_DETAIL.handset_unreachable },
    });
  });

  test('when one part of a split message fails, then the message is "some of the split messages failed"', async () => {
    const to = freshNumber();
    smsc.script(to, { kind: 'fail-part', part: 2 });
    const t = client();
    const receipts = collectReceipts(t);
    const result = await t.submit(message(to, 'z'.repeat(400)));
    await eventually(() => receipts.length === 3, 'three receipts');

    const byId = new Map(receipts.map((r) => [r.messageId, r.outcome]));
    const perPart = result.parts.map((p) => byId.get(p.messageId!) ?? null);
    expect(perPart.map((o) => o?.result)).toEqual(['delivered', 'error', 'delivered']);
    expect(combinePartOutcomes(perPart)).toMatchObject({
      result: 'error',
      detail: SMS_ERROR_DETAIL.some_parts_failed,
    });
  });

  test('when the SMSC never confirms, then no receipt arrives', async () => {
    const to = freshNumber();
    smsc.script(to, { kind: 'never-confirm' });
    const t = client();
    const receipts = collectReceipts(t);
    const result = await t.submit(message(to, 'hello'));
    // A message submitted after it, to a handset that confirms: once its
    // receipt is in, the SMSC has had every chance to confirm the first.
    const control = await t.submit(message(freshNumber(), 'control'));
    await eventually(() => receipts.length > 0, 'the control receipt');

    expect(result.outcome).toBe('submitted');
    expect(receipts.map((r) => r.messageId)).toEqual([control.parts[0]!.messageId]);
  });

  test('when the link drops before a receipt is due, then the receipt arrives after the re-bind', async () => {
    const to = freshNumber();
    smsc.script(to, { kind: 'deliver', delayMs: 150 });
    const t = client();
    const receipts = collectReceipts(t);
    const result = await t.submit(message(to, 'hello'));
    smsc.dropAll();
    await eventually(() => receipts.length === 1, 'the receipt after reconnecting');

    expect(smsc.bindCount()).toBe(2);
    expect(receipts[0]!.messageId).toBe(result.parts[0]!.messageId);
  });
});

describe('what other SMSCs send', () => {
  test('when receipts come as data_sm, then each is answered with data_sm_resp and reported', async () => {
    await smsc.stop();
    await startSmsc({ receiptVia: 'data_sm' });
    const ok = freshNumber();
    const absent = freshNumber();
    smsc.script(absent, { kind: 'fail', stat: 'UNDELIV', err: '001' });
    const t = client();
    const receipts = collectReceipts(t);
    const delivered = await t.submit(message(ok, 'hello'));
    const failed = await t.submit(message(absent, 'hello'));
    await eventually(() => receipts.length === 2, 'both receipts');
    await eventually(() => smsc.receipts().every((r) => r.responseStatus !== null), 'the data_sm_resp');

    expect(smsc.receipts().map((r) => [r.command, r.responseStatus])).toEqual([
      ['data_sm', 0],
      ['data_sm', 0],
    ]);
    const byId = new Map(receipts.map((r) => [r.messageId, r]));
    expect(byId.get(delivered.parts[0]!.messageId!)).toMatchObject({
      stat: 'DELIVRD',
      delivered: true,
      correlated: true,
      handset: ok,
    });
    expect(byId.get(failed.parts[0]!.messageId!)).toMatchObject({
      stat: 'UNDELIV',
      err: '001',
      delivered: false,
      correlated: true,
      outcome: { result: 'error', detail: SMS_ERROR_DETAIL.handset_unreachable },
    });
  });

  test('when the SMSC sends a command id SMPP does not define, then the client answers generic_nack ESME_RINVCMDID', async () => {
    const t = client();
    await eventually(() => t.isBound(), 'the bind');
    const answer = await smsc.sendUnknownCommand(0x000001ff);

    expect(answer).toEqual({ commandId: 0x80000000, commandStatus: SmppStatus.INVALID_COMMAND_ID });
    // The link stays usable.
    expect((await t.submit(message(freshNumber(), 'after the nack'))).outcome).toBe('submitted');
  });

  test('when the receipted_message_id TLV has no NUL terminator, then it is read by its length and correlates', async () => {
    await smsc.stop();
    // Same id form in the text as in the TLV, so only the TLV reading decides.
    await startSmsc({ receiptTlvForm: 'unterminated', receiptTextId: 'same' });
    const to = freshNumber();
    const t = client();
    const receipts = collectReceipts(t);
    const result = await t.submit(message(to, 'hello'));
    await eventually(() => receipts.length === 1, 'the receipt');

    expect(receipts[0]).toMatchObject({
      messageId: result.parts[0]!.messageId,
      correlated: true,
      delivered: true,
    });
  });

  test('when the receipted_message_id TLV names no submit, then the id: of the receipt text is used', async () => {
    await smsc.stop();
    await startSmsc({ receiptTlvForm: 'unrelated' });
    const to = freshNumber();
    const t = client();
    const receipts = collectReceipts(t);
    const result = await t.submit(message(to, 'hello'));
    await eventually(() => receipts.length === 1, 'the receipt');

    expect(receipts[0]).toMatchObject({
      messageId: result.parts[0]!.messageId,
      correlated: true,
      delivered: true,
    });
  });
});

describe('mobile-originated replies', () => {
  test.each([
    ['GSM 03.38 in deliver_sm', 'gsm', 'deliver_sm', 'STOP {please} 5€'],
    ['UCS-2 in deliver_sm', 'ucs2', 'deliver_sm', '配信停止してください'],
    ['UCS-2 in data_sm', 'ucs2', 'data_sm', '配信停止👍'],
    ['GSM 03.38 in data_sm', 'gsm', 'data_sm', 'Stop'],
  ] as const)(
    'when a handset replies in %s, then the reply is acknowledged and reported decoded',
    async (_, encoding, via, text) => {
      const t = client();
      const replies: SmsReply[] = [];
      t.onReply((r) => replies.push(r));
      await eventually(() => t.isBound(), 'the bind');
      const from = freshNumber();
      const status = await smsc.sendMobileOriginated({ from, to: 'Orchestra', text, encoding, via });

      expect(status).toBe(0);
      await eventually(() => replies.length === 1, 'the reply');
      expect(replies[0]).toMatchObject({
        from,
        to: 'Orchestra',
        text,
        dataCoding: encoding === 'gsm' ? 0 : 8,
      });
    },
  );
});

describe('submit_sm_resp errors', () => {
  test('when the SMSC throttles, then the submit is retryable and the caller’s retry succeeds', async () => {
    const to = freshNumber();
    smsc.script(to, { kind: 'throttle', times: 2 });
    const t = client();

    const first = await t.submit(message(to, 'hello'));
    const second = await t.submit(message(to, 'hello'));
    const third = await t.submit(message(to, 'hello'));

    expect(first).toMatchObject({
      outcome: 'retryable',
      parts: [{ messageId: null, status: SmppStatus.THROTTLED }],
    });
    expect(first.reason).toContain('0x58');
    expect(second.outcome).toBe('retryable');
    expect(third).toMatchObject({ outcome: 'submitted', parts: [{ status: 0 }] });
    expect(smsc.reassembled(to)).toEqual(['hello']);
  });

  test('when the SMSC queue is full, then the submit is retryable', async () => {
    const to = freshNumber();
    smsc.script(to, { kind: 'queue-full', times: 1 });
    const result = await client().submit(message(to, 'hello'));

    expect(result).toMatchObject({
      outcome: 'retryable',
      detail: SMS_ERROR_DETAIL.sending_failed,
      parts: [{ status: SmppStatus.MESSAGE_QUEUE_FULL }],
    });
  });

  test('when the destination is invalid, then the submit is permanent', async () => {
    const to = freshNumber();
    smsc.script(to, { kind: 'invalid-destination' });
    const result = await client().submit(message(to, 'hello'));

    expect(result).toMatchObject({
      outcome: 'permanent',
      detail: SMS_ERROR_DETAIL.sending_failed,
      parts: [{ messageId: null, status: SmppStatus.INVALID_DESTINATION }],
    });
  });

  test('when the first part of a long message is throttled, then the other parts are not sent', async () => {
    const to = freshNumber();
    smsc.script(to, { kind: 'throttle', times: 1 });
    const result = await client().submit(message(to, 'q'.repeat(300)));

    expect(result.outcome).toBe('retryable');
    expect(result.parts.map((p) => p.status)).toEqual([SmppStatus.THROTTLED, SUBMIT_SKIPPED]);
    expect(smsc.messagesTo(to)).toHaveLength(1);
  });

  test('when a later part of a long message is refused, then the message is partial', async () => {
    const to = freshNumber();
    // Refuse from part 2 on: the script is set once part 1 has been answered.
    const t = client();
    const unsub = smsc.onSubmit((s) => {
      if (s.destination === to && s.udh?.seq === 1) smsc.script(to, { kind: 'queue-full', times: 5 });
    });
    const result = await t.submit(message(to, 'p'.repeat(300)));
    unsub();

    expect(result).toMatchObject({ outcome: 'partial', detail: SMS_ERROR_DETAIL.some_parts_failed });
    expect(result.parts.map((p) => p.status)).toEqual([0, SmppStatus.MESSAGE_QUEUE_FULL]);
    expect(result.reason).toMatch(/^part 2\/2: /);
  });

  test('when the destination is not international digits, then the client refuses it without sending', async () => {
    const result = await client().submit(message('+81 90-1234-5678', 'hello'));

    expect(result.outcome).toBe('permanent');
    expect(smsc.submitCount()).toBe(0);
  });

  test.each([
    ['0013', 'permanent', SmppStatus.INVALID_DESTINATION],
    ['0011', 'retryable', SmppStatus.THROTTLED],
    ['0012', 'retryable', SmppStatus.MESSAGE_QUEUE_FULL],
  ])(
    'when a number ends in %s and has no script, then the convention makes it %s',
    async (suffix, outcome, status) => {
      const to = `8190${randomInt(1000, 9999)}${suffix}`;
      const result = await client().submit(message(to, 'hello'));

      expect(result).toMatchObject({ outcome, parts: [{ status }] });
    },
  );
});

describe('connection handling', () => {
  test('when the SMSC drops the bind on a submit, then that submit is retryable and later submits succeed after a re-bind', async () => {
    const dropper = freshNumber();
    const other = freshNumber();
    smsc.script(dropper, { kind: 'drop-bind', times: 1 });
    const t = client();

    const dropped = await t.submit(message(dropper, 'hello'));
    const after = await t.submit(message(other, 'hello'));
    const retried = await t.submit(message(dropper, 'hello'));

    expect(dropped).toMatchObject({ outcome: 'retryable', parts: [{ status: SUBMIT_NO_RESPONSE }] });
    expect(after.outcome).toBe('submitted');
    expect(retried.outcome).toBe('submitted');
    expect(smsc.bindCount()).toBe(2);
  });

  test('when a submit is made while the link is down, then it waits for the re-bind', async () => {
    const t = client();
    await eventually(() => t.isBound(), 'the first bind');
    smsc.dropAll();
    // Once the client has seen the drop; a submit written before that is lost with the link.
    await eventually(() => !t.isBound(), 'the client to notice the drop');
    const result = await t.submit(message(freshNumber(), 'hello'));

    expect(result.outcome).toBe('submitted');
    expect(smsc.bindCount()).toBe(2);
  });

  test('when the password is wrong, then the bind is refused and submits fail as retryable after the timeout', async () => {
    const t = client({ password: 'wrong', submitTimeoutMs: 300 });
    const result = await t.submit(message(freshNumber(), 'hello'));

    expect(result).toMatchObject({ outcome: 'retryable', parts: [{ status: SUBMIT_NOT_SENT }] });
    expect(result.reason).toContain('ESME_RBINDFAIL');
    expect(smsc.refusedBindCount()).toBeGreaterThanOrEqual(1);
    expect(smsc.bindCount()).toBe(0);
  });

  test('when the link is idle, then enquire_link keeps it alive past the SMSC inactivity timer', async () => {
    await smsc.stop();
    await startSmsc({ idleTimeoutMs: 2_000 });
    const t = client({ enquireLinkMs: 100 });
    await eventually(() => t.isBound(), 'the bind');
    // 25 enquire_links span at least 2.5 s: past the SMSC's 2 s inactivity timer.
    await eventually(() => smsc.enquireLinkCount() >= 25, '25 enquire_links');

    expect(smsc.bindCount()).toBe(1);
    expect((await t.submit(message(freshNumber(), 'still here'))).outcome).toBe('submitted');
  });

  test('when enquire_link is too rare for the inactivity timer, then the SMSC drops the link and the client re-binds', async () => {
    await smsc.stop();
    await startSmsc({ idleTimeoutMs: 150 });
    const t = client({ enquireLinkMs: 10_000 });
    await eventually(() => smsc.bindCount() >= 2, 'a second bind');

    expect((await t.submit(message(freshNumber(), 'back'))).outcome).toBe('submitted');
  });

  test('when the SMSC stops answering enquire_link, then the client drops the link and re-binds', async () => {
    const t = client({ enquireLinkMs: 50 });
    await eventually(() => t.isBound(), 'the bind');
    smsc.setAnswerEnquireLink(false);
    await eventually(() => smsc.bindCount() >= 2, 'a re-bind');
    smsc.setAnswerEnquireLink(true);

    expect((await t.submit(message(freshNumber(), 'hello'))).outcome).toBe('submitted');
  });

  test('when many submits run at once, then no more than the window are outstanding', async () => {
    const to = freshNumber();
    smsc.script(to, { kind: 'slow', responseDelayMs: 100 });
    const t = client({ windowSize: 3 });

    const results = await Promise.all(Array.from({ length: 9 }, (_, i) => t.submit(message(to, `msg ${i}`))));

    expect(results.every((r) => r.outcome === 'submitted')).toBe(true);
    expect(smsc.maxOutstanding()).toBe(3);
  });

  test('when the transport is closed, then it unbinds and a later submit fails as retryable', async () => {
    const t = client();
    await eventually(() => t.isBound(), 'the bind');
    await t.close();

    await eventually(() => smsc.openSessions() === 0, 'the session to close');
    const result = await t.submit(message(freshNumber(), 'hello'));
    expect(result).toMatchObject({ outcome: 'retryable', parts: [{ status: SUBMIT_NOT_SENT }] });
  });
});
