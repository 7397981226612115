import { DEFAULT_SMS_OPT_OUT_KEYWORDS, parseOptOutKeywords, readSmsReply } from '../../domain/sms-replies';

const keywords = DEFAULT_SMS_OPT_OUT_KEYWORDS;

describe('readSmsReply', () => {
  test.each([
    ['STOP', 'STOP'],
    ['stop', 'STOP'],
    [' Stop. ', 'STOP'],
    ['ＳＴＯＰ', 'STOP'],
    ['Stop please', 'STOP'],
    ['unsubscribe!', 'UNSUBSCRIBE'],
    ['opt out', 'OPT OUT'],
    ['配信停止', '配信停止'],
    ['配信停止してください', '配信停止'],
    ['「停止」', '停止'],
    ['ｽﾄｯﾌﾟ', 'ストップ'],
  ])('when the reply is %j, then it opts out by %j', (text, keyword) => {
    expect(readSmsReply(text, keywords)).toEqual({ kind: 'opt_out', keyword });
  });

  test.each(['Stopped by the shop', "Don't stop", 'Thanks!', 'ending soon?', '明日は停止しますか', ''])(
    'when the reply is %j, then it is a plain reply',
    (text) => {
      expect(readSmsReply(text, keywords)).toEqual({ kind: 'reply', keyword: '' });
    },
  );

  test('when keywords are configured, then they replace the defaults', () => {
    const configured = parseOptOutKeywords(' HALT , やめて ');
    expect(configured).toEqual(['HALT', 'やめて']);
    expect(readSmsReply('halt', configured).kind).toBe('opt_out');
    expect(readSmsReply('STOP', configured).kind).toBe('reply');
    expect(parseOptOutKeywords('')).toEqual([...DEFAULT_SMS_OPT_OUT_KEYWORDS]);
  });
});
