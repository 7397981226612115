import {
  bumpOccurrence,
  MAX_NORMALIZED_LENGTH,
  normalizeBounceText,
  OCCURRENCE_CAP,
} from '../../domain/bounce-normalize';

describe('grouping', () => {
  test('when two Postfix bounces differ only in address, IP, queue id and date, then they normalize identically', () => {
    const a =
      'host mx1.example.net[192.0.2.10] said: 550 5.1.1 <taro.yamada@example.net>: Recipient address rejected: ' +
      'User unknown in virtual mailbox table (queue 4VJ8kz0Xq5z9tVw, Tue,  2 Apr 2024 10:15:03 +0900 (JST))';
    const b =
      'host mx1.example.net[198.51.100.7] said: 550 5.1.1 <Hanako@Example.NET>: Recipient address rejected: ' +
      'User unknown in virtual mailbox table (queue 3F2A81C0D4B, Wed, 17 Apr 2024 23:59:59 +0900 (JST))';
    expect(normalizeBounceText(a)).toBe(normalizeBounceText(b));
    expect(normalizeBounceText(a)).toBe(
      'host mx1.example.net[#xxx#] said: 550 5.1.1 *: Recipient address rejected: ' +
        'User unknown in virtual mailbox table (queue #xxx#, #xxx#)',
    );
  });

  test('when Gmail sends its multi-line reply with different transaction ids, then both group and the codes stay', () => {
    const gmail = (id: string): string =>
      '550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n' +
      "550-5.1.1 double-checking the recipient's email address for typos or\r\n" +
      `550 5.1.1  https://support.google.com/mail/?p=NoSuchUser ${id} - gsmtp`;
    const first = normalizeBounceText(gmail('d9443c01a7336-1e0bd5b6d5asi123456plb.123'));
    expect(first).toBe(normalizeBounceText(gmail('98e67ed59e1d1-2a2b3c4d5esi7654321pjb.45')));
    expect(first).toBe(
      "550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos or 550 5.1.1 https://support.google.com/mail/?p=NoSuchUser #xxx#.#xxx# - gsmtp",
    );
  });

  test('when Exchange names its server, time stamp and correlation id, then all of them are variable', () => {
    const text =
      '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient nobody@contoso.onmicrosoft.com not found by SMTP address lookup ' +
      '[TYCPR01MB8993.jpnprd01.prod.outlook.com 2024-04-02T01:15:04.123Z 08DC52A1B2C3D4E5]';
    expect(normalizeBounceText(text)).toBe(
      '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient * not found by SMTP address lookup ' +
        '[#xxx#.#xxx#.prod.outlook.com #xxx# #xxx#]',
    );
  });
});

describe('what is kept', () => {
  test.each([
    ['an enhanced code after the reply code', '552 5.2.2 Mailbox full', '552 5.2.2 Mailbox full'],
    [
      'a reply code without an enhanced code after "said:"',
      'said: 550 Unrouteable address',
      'said: 550 Unrouteable address',
    ],
    [
      'a reply code at the start of a Japanese sentence',
      '2024年4月2日 10時15分 に配信できませんでした。550 ユーザー不明',
      '#xxx# に配信できませんでした。550 ユーザー不明',
    ],
    [
      'a short named error code',
      '421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred',
      '421 4.7.0 [TSS04] Messages from #xxx# temporarily deferred',
    ],
    [
      'a port between colons, replaced as a number only',
      'connect to mx.slow.example[192.0.2.10]:25: Connection timed out',
      'connect to mx.slow.example[#xxx#]:#xxx#: Connection timed out',
    ],
    ['single digits', 'try again in 5 minutes', 'try again in 5 minutes'],
  ])('%s', (_label, input, expected) => {
    expect(normalizeBounceText(input)).toBe(expected);
  });
});

describe('what becomes variable', () => {
  test.each([
    [
      'numbers of two or more digits',
      'message size 15728640 exceeds size limit 10485760',
      'message size #xxx# exceeds size limit #xxx#',
    ],
    ['a 3-digit number that is not a reply code', 'Your message of 552 bytes', 'Your message of #xxx# bytes'],
    ['IPv6 addresses', 'from [2001:db8::25] and fe80::1:2:3', 'from [#xxx#] and #xxx#'],
    ['an IPv4-mapped IPv6 address', 'client ::ffff:192.0.2.1 refused', 'client #xxx# refused'],
    [
      'a ctime date and a UUID',
      'Tue Apr  2 01:23:45 2024 uuid 123e4567-e89b-12d3-a456-426614174000',
      '#xxx# uuid #xxx#',
    ],
    ['slashed and dotted dates', 'on 2024/04/02 12:00 and 02.04.2024', 'on #xxx# and #xxx#'],
    ['addresses, bracketed or not', 'to <a.b+c@example.co.jp> and 太郎@例え.jp', 'to * and *'],
    ['hex ids', 'id=deadbeef00c0ffee', 'id=#xxx#'],
  ])('%s', (_label, input, expected) => {
    expect(normalizeBounceText(input)).toBe(expected);
  });
});

test('whitespace is collapsed and trimmed', () => {
  expect(normalizeBounceText('  550   5.1.1\r\n\t user  unknown \u3000')).toBe('550 5.1.1 user unknown');
});

test('normalizing twice changes nothing', () => {
  const once = normalizeBounceText(
    'host mx1.example.net[192.0.2.10] said: 550 5.1.1 <taro@example.net>: User unknown (queue 4VJ8kz0Xq5z9tVw)',
  );
  expect(normalizeBounceText(once)).toBe(once);
});

test('the result is capped, without cutting a surrogate pair', () => {
  expect(normalizeBounceText('abcd'.repeat(1000))).toHaveLength(MAX_NORMALIZED_LENGTH);
  const emoji = normalizeBounceText('a' + '😀'.repeat(600));
  expect(emoji.length).toBeLessThanOrEqual(MAX_NORMALIZED_LENGTH);
  expect(emoji.endsWith('😀')).toBe(true);
});

test('private-use characters in the input cannot smuggle a kept code', () => {
  expect(normalizeBounceText('queue \uE000\uE100\uE001 12345')).toBe('queue #xxx#');
});

test('non-string input gives an empty text', () => {
  expect(normalizeBounceText(undefined as unknown as string)).toBe('');
});

describe('bumpOccurrence', () => {
  test.each([
    [0, 1],
    [41, 42],
    [OCCURRENCE_CAP - 1, OCCURRENCE_CAP],
    [OCCURRENCE_CAP, OCCURRENCE_CAP],
    [OCCURRENCE_CAP + 5, OCCURRENCE_CAP],
    [-3, 1],
    [Number.NaN, 1],
    [2.7, 3],
  ])('%p -> %p', (n, expected) => {
    expect(bumpOccurrence(n)).toBe(expected);
  });
});
