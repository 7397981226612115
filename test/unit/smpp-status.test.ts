import {
  RECEIPT_TIMED_OUT,
  SUBMIT_NO_RESPONSE,
  SUBMIT_NOT_SENT,
  SUBMIT_REFUSED,
  SUBMIT_SKIPPED,
  classifyReceipt,
  classifySubmitStatus,
  combinePartOutcomes,
  describeSubmitStatus,
  messageIdKeys,
  normalizeErr,
  normalizeMessageId,
  normalizeStat,
  parseDeliveryReceipt,
  parseReceiptDate,
  statFromMessageState,
  summarizeSubmit,
  type MessageIdFormat,
  type ReceiptOutcome,
  type SubmitStatusClass,
} from '../../domain/smpp-status';
import { SMS_ERROR_DETAIL } from '../../domain/sms-segments';

describe('classifySubmitStatus', () => {
  test.each<[string, SubmitStatusClass, number]>([
    ['ESME_ROK', 'accepted', 0x00],
    ['throttled (0x58)', 'retryable', 0x58],
    ['message queue full (0x14)', 'retryable', 0x14],
    ['system error (0x08)', 'retryable', 0x08],
    ['incorrect bind status (0x04): the session was not bound', 'retryable', 0x04],
    ['temporary application error (0x64)', 'retryable', 0x64],
    ['no submit_sm_resp (client)', 'retryable', SUBMIT_NO_RESPONSE],
    ['not sent, no bind in time (client)', 'retryable', SUBMIT_NOT_SENT],
    ['invalid destination (0x0B)', 'permanent', 0x0b],
    ['invalid source (0x0A)', 'permanent', 0x0a],
    ['invalid data coding (0x104)', 'permanent', 0x104],
    ['permanent application error (0x65)', 'permanent', 0x65],
    ['refused by the client', 'permanent', SUBMIT_REFUSED],
    ['an unknown vendor code (0x400)', 'permanent', 0x400],
  ])('when submit_sm_resp says %s, then it is %s', (_name, expected, status) => {
    expect(classifySubmitStatus(status)).toBe(expected);
  });
});

describe('describeSubmitStatus', () => {
  test.each<[number, string]>([
    [0x58, 'ESME_RTHROTTLED (0x58)'],
    [0x0b, 'ESME_RINVDSTADR (0x0B)'],
    [0x104, 'ESME_RINVDCS (0x104)'],
    [0x400, 'unknown status (0x400)'],
    [SUBMIT_NO_RESPONSE, 'no submit_sm_resp (timeout or connection lost)'],
  ])('when the status is %s, then it reads %j', (status, text) => {
    expect(describeSubmitStatus(status)).toBe(text);
  });
});

describe('summarizeSubmit', () => {
  test.each<[string, string, string, number[]]>([
    ['every part accepted', 'submitted', '', [0, 0, 0]],
    ['a single part throttled', 'retryable', SMS_ERROR_DETAIL.sending_failed, [0x58]],
    [
      'the first part throttled, the rest skipped',
      'retryable',
      SMS_ERROR_DETAIL.sending_failed,
      [0x58, SUBMIT_SKIPPED, SUBMIT_SKIPPED],
    ],
    ['an invalid destination', 'permanent', SMS_ERROR_DETAIL.sending_failed, [0x0b]],
    ['the first part refused for good', 'permanent', SMS_ERROR_DETAIL.sending_failed, [0x0b, SUBMIT_SKIPPED]],
    [
      'part 2 of 3 throttled after part 1 was accepted',
      'partial',
      SMS_ERROR_DETAIL.some_parts_failed,
      [0, 0x58, SUBMIT_SKIPPED],
    ],
    ['the last part unanswered', 'partial', SMS_ERROR_DETAIL.some_parts_failed, [0, 0, SUBMIT_NO_RESPONSE]],
    ['no parts at all', 'permanent', SMS_ERROR_DETAIL.internal_error, []],
  ])('when %s, then the message is %s', (_name, outcome, detail, statuses) => {
    expect(summarizeSubmit(statuses)).toEqual({ outcome, detail });
  });
});

describe('normalizeStat / statFromMessageState / normalizeErr', () => {
  test.each<[string, string | null]>([
    ['DELIVRD', 'DELIVRD'],
    ['delivrd', 'DELIVRD'],
    ['DELIVERED', 'DELIVRD'],
    ['UNDELIVERABLE', 'UNDELIV'],
    ['REJECTED', 'REJECTD'],
    [' ACCEPTD ', 'ACCEPTD'],
    ['BOGUS', null],
  ])('when stat is %j, then it normalizes to %j', (stat, expected) => {
    expect(normalizeStat(stat)).toBe(expected);
  });

  test.each<[number, string | null]>([
    [1, 'ENROUTE'],
    [2, 'DELIVRD'],
    [3, 'EXPIRED'],
    [5, 'UNDELIV'],
    [8, 'REJECTD'],
    [0, null],
    [42, null],
  ])('when message_state is %d, then the stat is %j', (state, expected) => {
    expect(statFromMessageState(state)).toBe(expected);
  });

  test.each<[string, string]>([
    ['1', '001'],
    ['001', '001'],
    ['0001', '001'],
    ['27', '027'],
    ['', ''],
    ['x1f', 'X1F'],
  ])('when err is %j, then it normalizes to %j', (err, expected) => {
    expect(normalizeErr(err)).toBe(expected);
  });
});

describe('classifyReceipt', () => {
  type Expect = Partial<Omit<Extract<ReceiptOutcome, { result: 'error' }>, 'result' | 'final'>> & {
    result: ReceiptOutcome['result'];
    detail: string;
    final?: boolean;
  };
  test.each<[string, string, string, Expect]>([
    ['delivered', 'DELIVRD', '000', { result: 'delivered', detail: 'delivered', final: true }],
    ['en route', 'ENROUTE', '000', { result: 'pending', detail: '', final: false }],
    ['accepted', 'ACCEPTD', '000', { result: 'pending', detail: '', final: false }],
    [
      'undeliverable to an absent subscriber (err 001)',
      'UNDELIV',
      '001',
      {
        result: 'error',
        errorType: 'ignored',
        reason: 'not_connected',
        detail: SMS_ERROR_DETAIL.handset_unreachable,
      },
    ],
    [
      'undeliverable to an absent subscriber written as "1"',
      'UNDELIV',
      '1',
      {
        result: 'error',
        errorType: 'ignored',
        reason: 'not_connected',
        detail: SMS_ERROR_DETAIL.handset_unreachable,
      },
    ],
    [
      'undeliverable, MAP absent subscriber (err 027)',
      'UNDELIV',
      '027',
      { result: 'error', reason: 'not_connected', detail: SMS_ERROR_DETAIL.handset_unreachable },
    ],
    [
      'undeliverable to an unidentified subscriber (err 005)',
      'UNDELIV',
      '005',
      { result: 'error', errorType: 'hard', reason: 'unknown_user', detail: SMS_ERROR_DETAIL.sending_failed },
    ],
    [
      'undeliverable with an err not in the table',
      'UNDELIV',
      '777',
      {
        result: 'error',
        errorType: 'undefined',
        reason: 'undefined',
        detail: SMS_ERROR_DETAIL.sending_failed,
      },
    ],
    [
      'expired',
      'EXPIRED',
      '000',
      {
        result: 'error',
        errorType: 'ignored',
        reason: 'not_connected',
        detail: SMS_ERROR_DETAIL.handset_unreachable,
      },
    ],
    [
      'rejected',
      'REJECTD',
      '000',
      { result: 'error', errorType: 'hard', reason: 'refused', detail: SMS_ERROR_DETAIL.sending_failed },
    ],
    [
      'deleted',
      'DELETED',
      '000',
      { result: 'error', errorType: 'undefined', detail: SMS_ERROR_DETAIL.sending_failed },
    ],
    [
      'unknown to the SMSC',
      'UNKNOWN',
      '000',
      { result: 'error', errorType: 'undefined', detail: SMS_ERROR_DETAIL.result_unconfirmed },
    ],
    [
      'an unrecognised stat',
      'WHATEVER',
      '000',
      { result: 'error', detail: SMS_ERROR_DETAIL.result_unconfirmed },
    ],
  ])('when the receipt is %s, then the send result follows', (_name, stat, err, expected) => {
    expect(classifyReceipt(stat, err)).toMatchObject(expected);
  });
});

describe('combinePartOutcomes', () => {
  const delivered = classifyReceipt('DELIVRD', '000');
  const absent = classifyReceipt('UNDELIV', '001');
  const rejected = classifyReceipt('REJECTD', '000');
  const pending = classifyReceipt('ENROUTE', '000');
  test.each<[string, string, string, (ReceiptOutcome | null)[], boolean]>([
    ['every part delivered', 'delivered', 'delivered', [delivered, delivered], false],
    ['a part has no receipt yet', 'pending', '', [delivered, null], false],
    ['a part is still en route', 'pending', '', [delivered, pending], false],
    [
      'part 2 of 3 failed, the others delivered',
      'error',
      SMS_ERROR_DETAIL.some_parts_failed,
      [delivered, absent, delivered],
      false,
    ],
    ['every part failed', 'error', SMS_ERROR_DETAIL.sending_failed, [rejected, rejected], false],
    ['a single part failed', 'error', SMS_ERROR_DETAIL.handset_unreachable, [absent], false],
    [
      'the window closed with a part unconfirmed',
      'error',
      SMS_ERROR_DETAIL.result_unconfirmed,
      [delivered, null],
      true,
    ],
    [
      'the window closed with one failed and one unconfirmed',
      'error',
      SMS_ERROR_DETAIL.some_parts_failed,
      [absent, null],
      true,
    ],
    ['the window closed without any receipt', 'error', SMS_ERROR_DETAIL.result_unconfirmed, [null], true],
  ])('when %s, then the message is %s', (_name, result, detail, parts, windowClosed) => {
    expect(combinePartOutcomes(parts, windowClosed)).toMatchObject({ result, detail });
  });

  test('when the receipt window closes with nothing, then it is the timed-out outcome', () => {
    expect(combinePartOutcomes([null, null], true)).toBe(RECEIPT_TIMED_OUT);
  });
});

describe('parseDeliveryReceipt', () => {
  test('when the receipt is the SMPP 3.4 Appendix B text, then every field is read', () => {
    const r = parseDeliveryReceipt(
      'id:A0000001 sub:001 dlvrd:001 submit date:2611231058 done date:2611231059 stat:DELIVRD err:000 text:Hello world',
    );
    expect(r).toEqual({
      id: 'A0000001',
      sub: '001',
      dlvrd: '001',
      submitDate: new Date('2026-11-23T10:58:00Z'),
      doneDate: new Date('2026-11-23T10:59:00Z'),
      stat: 'DELIVRD',
      err: '000',
      text: 'Hello world',
    });
  });

  test.each<[string, string, Partial<ReturnType<typeof parseDeliveryReceipt> & object>]>([
    [
      'keys in lower and upper case with submit_date underscores',
      'ID:42 SUB:001 DLVRD:000 SUBMIT_DATE:2601021530 DONE_DATE:2601021531 STAT:UNDELIV ERR:001',
      { id: '42', stat: 'UNDELIV', err: '001', doneDate: new Date('2026-01-02T15:31:00Z'), text: '' },
    ],
    [
      'a text that itself contains "stat:"',
      'id:7 sub:001 dlvrd:001 submit date:2601021530 done date:2601021531 stat:DELIVRD err:000 text:stat:REJECTD',
      { stat: 'DELIVRD', text: 'stat:REJECTD' },
    ],
    [
      'dates with seconds',
      'id:7 submit date:260102153012 done date:260102153145 stat:DELIVRD err:000',
      { doneDate: new Date('2026-01-02T15:31:45Z') },
    ],
    ['no err field', 'id:7 stat:EXPIRED', { err: '', sub: null, submitDate: null, doneDate: null }],
  ])('when %s, then it is read', (_name, body, expected) => {
    expect(parseDeliveryReceipt(body)).toMatchObject(expected);
  });

  test('when the SMSC clock is JST, then dates are converted to UTC', () => {
    const r = parseDeliveryReceipt('id:1 done date:2601020900 stat:DELIVRD err:000', 540);
    expect(r?.doneDate).toEqual(new Date('2026-01-02T00:00:00Z'));
  });

  test.each<[string, string]>([
    ['no id', 'sub:001 dlvrd:001 stat:DELIVRD err:000'],
    ['no stat', 'id:1 sub:001 dlvrd:001 err:000'],
    ['free text', 'Your code is 1234'],
    ['an id only inside text:', 'stat:DELIVRD text:id:5'],
  ])('when the body has %s, then it is not a receipt', (_name, body) => {
    expect(parseDeliveryReceipt(body)).toBeNull();
  });
});

describe('parseReceiptDate', () => {
  test.each<[string | null, string | null]>([
    ['2611231058', '2026-11-23T10:58:00.000Z'],
    ['261123105807', '2026-11-23T10:58:07.000Z'],
    ['2602310000', null],
    ['2613010000', null],
    ['26112310', null],
    [null, null],
  ])('when the date is %j, then it is %j', (value, expected) => {
    expect(parseReceiptDate(value)?.toISOString() ?? null).toBe(expected);
  });
});

describe('message ids', () => {
  test.each<[string, MessageIdFormat, string]>([
    ['0000001A', 'hex', '26'],
    ['1a', 'hex', '26'],
    ['0026', 'decimal', '26'],
    ['A0000001', 'hex', '2684354561'],
    [' abc-1 ', 'string', 'abc-1'],
    ['xyz', 'hex', 'xyz'],
    ['12ab', 'decimal', '12ab'],
  ])('when %j is a %s id, then its canonical form is %j', (id, format, expected) => {
    expect(normalizeMessageId(id, format)).toBe(expected);
  });

  test('when a hex submit id and a decimal receipt id name the same message, then their canonical forms meet', () => {
    expect(normalizeMessageId('A0000001', 'hex')).toBe(normalizeMessageId('2684354561', 'decimal'));
  });

  test.each<[string, { exact: string; asDecimal: string | null; asHex: string | null }]>([
    ['A0000001', { exact: 'A0000001', asDecimal: null, asHex: '2684354561' }],
    ['0010', { exact: '0010', asDecimal: '10', asHex: '16' }],
    ['msg-1', { exact: 'msg-1', asDecimal: null, asHex: null }],
    ['', { exact: '', asDecimal: null, asHex: null }],
  ])('when the id is %j, then its lookup keys are %j', (id, expected) => {
    expect(messageIdKeys(id)).toEqual(expected);
  });
});
