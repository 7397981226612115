import {
  SMS_ERROR_DETAIL,
  SMS_PRE_ERROR_DETAIL,
  checkSmsBody,
  segmentCount,
  smsEncoding,
  smsLength,
  splitSegments,
  type SmsEncoding,
} from '../../domain/sms-segments';

const a = (n: number) => 'a'.repeat(n);
const kana = (n: number) => 'あ'.repeat(n);
const emoji = (n: number) => '👍'.repeat(n);

describe('smsEncoding', () => {
  test.each<[string, SmsEncoding, string]>([
    ['plain ASCII', 'gsm7', 'Hello, world! 123'],
    ['GSM accented letters', 'gsm7', 'Ça coute? éàüñ'],
    ['GSM Greek capitals and symbols', 'gsm7', 'ΔΦΓΛΩΠΨΣΘΞ @£$¥§¿¡'],
    ['extension characters', 'gsm7', '{}[]~|^\\€\f'],
    ['newlines', 'gsm7', 'line 1\nline 2\r\n'],
    ['an accent outside GSM (á)', 'ucs2', 'árbol'],
    ['a tab', 'ucs2', 'a\tb'],
    ['kana', 'ucs2', 'こんにちは'],
    ['half-width kana', 'ucs2', 'ｱｲｳ'],
    ['an emoji', 'ucs2', 'ok 👍'],
    ['a backtick', 'ucs2', 'a`b'],
  ])('%s is %s', (_name, encoding, text) => {
    expect(smsEncoding(text)).toBe(encoding);
  });
});

describe('smsLength', () => {
  test.each([
    ['ASCII costs one septet per character', 'abc', { encoding: 'gsm7', units: 3, characters: 3 }],
    ['an extension character costs two septets', 'a€', { encoding: 'gsm7', units: 3, characters: 2 }],
    ['kana cost one UCS-2 unit each', 'あい', { encoding: 'ucs2', units: 2, characters: 2 }],
    ['an emoji is one character but two UCS-2 units', '👍', { encoding: 'ucs2', units: 2, characters: 1 }],
    ['in UCS-2, extension characters cost one unit', 'あ€', { encoding: 'ucs2', units: 2, characters: 2 }],
    ['empty text', '', { encoding: 'gsm7', units: 0, characters: 0 }],
  ])('%s', (_name, text, expected) => {
    expect(smsLength(text)).toEqual(expected);
  });
});

describe('segmentCount', () => {
  test.each([
    ['empty text is 0 parts', '', 0],
    ['160 ASCII characters fit one message', a(160), 1],
    ['161 ASCII characters need 2 parts', a(161), 2],
    ['153 × 2 ASCII characters fit 2 parts', a(306), 2],
    ['153 × 2 + 1 ASCII characters need 3 parts', a(307), 3],
    ['80 extension characters (160 septets) fit one message', '{'.repeat(80), 1],
    ['81 extension characters (162 septets) need 2 parts', '{'.repeat(81), 2],
    ['159 ASCII + one extension character (161 septets) need 2 parts', a(159) + '€', 2],
    ['an escape that would straddle a part boundary moves to the next part', a(152) + '€' + a(152), 3],
    ['70 kana fit one message', kana(70), 1],
    ['71 kana need 2 parts', kana(71), 2],
    ['67 × 2 kana fit 2 parts', kana(134), 2],
    ['67 × 2 + 1 kana need 3 parts', kana(135), 3],
    ['660 kana need 10 parts', kana(660), 10],
    ['35 emoji (70 units) fit one message', emoji(35), 1],
    ['36 emoji (72 units) need 2 parts', emoji(36), 2],
    [
      'a surrogate pair that would straddle a part boundary moves to the next part',
      kana(66) + '👍' + kana(66),
      3,
    ],
    ['one kana turns 100 ASCII characters into UCS-2 (101 units, 2 parts)', a(100) + 'あ', 2],
    ['GSM text with extension characters keeps GSM-7', 'Price: 5€ [sale] {today}', 1],
  ])('%s', (_name, text, parts) => {
    expect(segmentCount(text)).toBe(parts);
  });
});

describe('splitSegments', () => {
  test('empty text has no parts', () => {
    expect(splitSegments('')).toEqual([]);
  });

  test('a single message is returned whole', () => {
    expect(splitSegments(a(160))).toEqual([a(160)]);
  });

  test.each([
    ['ASCII', a(400), 153],
    ['extension characters', a(152) + '€' + a(152) + '{}'.repeat(40), 153],
    ['kana', kana(300), 67],
    ['emoji mixed with kana', (kana(66) + '👍').repeat(5), 67],
  ])('%s: parts rejoin to the text, each within %p units, no character cut', (_name, text, perPart) => {
    const parts = splitSegments(text);
    expect(parts.join('')).toBe(text);
    expect(parts.length).toBe(segmentCount(text));
    for (const part of parts) {
      expect(smsLength(part).units).toBeLessThanOrEqual(perPart);
      // A part must not start with a lone low surrogate or end with a lone high one.
      expect(part).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
    }
  });

  test('the straddling escape starts the second part, leaving the first one unit short', () => {
    const parts = splitSegments(a(152) + '€' + a(152));
    expect(parts).toEqual([a(152), '€' + a(151), a(1)]);
  });
});

describe('checkSmsBody', () => {
  test.each([
    ['an empty body', '', false, 'empty_body'],
    ['a body of only whitespace', ' \n ', true, 'empty_body'],
    ['70 kana without long messages pass', kana(70), false, null],
    ['71 kana without long messages are over the single limit', kana(71), false, 'over_single_limit'],
    ['71 kana with long messages pass', kana(71), true, null],
    [
      '71 ASCII characters without long messages are over the single limit (the seed counts characters)',
      a(71),
      false,
      'over_single_limit',
    ],
    ['660 kana with long messages pass', kana(660), true, null],
    ['661 kana with long messages are over the maximum', kana(661), true, 'over_max_length'],
    [
      '661 kana without long messages report the maximum, which the option cannot fix',
      kana(661),
      false,
      'over_max_length',
    ],
    ['660 ASCII characters with long messages pass', a(660), true, null],
    ['661 ASCII characters with long messages are over the maximum', a(661), true, 'over_max_length'],
    ['35 emoji (one part) without long messages pass', emoji(35), false, null],
    [
      '69 kana + 1 emoji: 70 characters but 2 parts, refused without long messages',
      kana(69) + '👍',
      false,
      'over_single_limit',
    ],
    ['69 kana + 1 emoji with long messages pass', kana(69) + '👍', true, null],
    ['330 emoji (660 units, 10 parts) with long messages pass', emoji(330), true, null],
    [
      '336 emoji: 336 characters but 11 parts, over what carriers accept',
      emoji(336),
      true,
      'over_max_length',
    ],
  ])('%s', (_name, text, allowLong, expected) => {
    expect(checkSmsBody(text, allowLong)).toBe(expected);
  });
});

test('every pre-error and error has its SPEC §6 wording', () => {
  expect(SMS_PRE_ERROR_DETAIL).toEqual({
    not_mobile: 'not a mobile phone number',
    short_url_failed: 'short URL generation failed',
    over_single_limit: 'over the 1-message (70 characters) limit, long messages not allowed',
    over_max_length: 'over the maximum of 660 characters',
    empty_body: 'the message body is empty',
  });
  expect(Object.values(SMS_ERROR_DETAIL).sort()).toEqual(
    [
      'internal error',
      'sending failed',
      'some of the split messages failed',
      'the result could not be confirmed',
      'handset out of range or switched off',
    ].sort(),
  );
});
