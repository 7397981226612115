import { simpleParser } from 'mailparser';
import { composeMessage, formatAddress } from '../../channels/email/mime';

const base = {
  from: 'news@example.test',
  to: 'lead@example.test',
  subject: 'Hello',
  messageId: '<tok123@bounce.example.test>',
};

test('when a plain ASCII text mail is composed, then a MIME parser reads back every field', async () => {
  const raw = composeMessage({
    ...base,
    text: 'Hi there,\nsee https://example.test/a?b=1\n.\nBye',
    replyTo: 'Support Team <support@example.test>',
    headers: { 'List-Unsubscribe': '<https://t.example.test/u/abc>', 'X-Send-Token': 'tok123' },
    date: new Date('2026-11-23T10:00:00Z'),
  });
  const mail = await simpleParser(raw);
  expect(mail.from?.value[0]?.address).toBe('news@example.test');
  expect((mail.to as { value: Array<{ address: string }> }).value[0]?.address).toBe('lead@example.test');
  expect(mail.replyTo?.value[0]).toMatchObject({ name: 'Support Team', address: 'support@example.test' });
  expect(mail.subject).toBe('Hello');
  expect(mail.messageId).toBe('<tok123@bounce.example.test>');
  expect(mail.date?.toISOString()).toBe('2026-11-23T10:00:00.000Z');
  expect(mail.headerLines.find((l) => l.key === 'list-unsubscribe')?.line).toBe(
    'List-Unsubscribe: <https://t.example.test/u/abc>',
  );
  expect(mail.headers.get('x-send-token')).toBe('tok123');
  expect(mail.text?.replace(/\r\n/g, '\n').trimEnd()).toBe(
    'Hi there,\nsee https://example.test/a?b=1\n.\nBye',
  );
  // Every line ends in CRLF, as SMTP DATA requires.
  expect(raw.toString().replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
});

test('when subject, name and body are Japanese, then they are encoded and decode to the same text', async () => {
  const subject =
    '【重要】年末セールのお知らせ：全品最大50%オフ、12月31日まで！お見逃しなく。詳細は本文をご覧ください';
  const text = 'こんにちは、山田様。\n今年もありがとうございました。';
  const raw = composeMessage({ ...base, from: '山田商店 <shop@example.test>', subject, text });
  const source = raw.toString();
  // 7-bit clean source, encoded words no longer than RFC 2047 allows.
  expect(Buffer.byteLength(source)).toBe(source.length);
  for (const word of source.match(/=\?UTF-8\?B\?[^?]*\?=/g) ?? [])
    expect(word.length).toBeLessThanOrEqual(75);
  const mail = await simpleParser(raw);
  expect(mail.subject).toBe(subject);
  expect(mail.from?.value[0]).toMatchObject({ name: '山田商店', address: 'shop@example.test' });
  expect(mail.text?.replace(/\r\n/g, '\n').trimEnd()).toBe(text);
});

test('when both text and HTML are given, then the mail is multipart/alternative with both parts', async () => {
  const raw = composeMessage({ ...base, text: 'plain version', html: '<p>rich <b>version</b> é</p>' });
  expect(raw.toString()).toMatch(/Content-Type: multipart\/alternative; boundary="/);
  const mail = await simpleParser(raw);
  expect(mail.text?.trim()).toBe('plain version');
  expect(mail.html).toContain('<p>rich <b>version</b> é</p>');
});

test('when only HTML is given, then the message itself is text/html', async () => {
  const raw = composeMessage({ ...base, html: '<p>only html</p>' });
  expect(raw.toString()).toMatch(/^Content-Type: text\/html; charset=utf-8$/m);
  const mail = await simpleParser(raw);
  expect(mail.html).toContain('<p>only html</p>');
});

test('when a header value carries a line break, then it cannot start a header of its own', async () => {
  const raw = composeMessage({ ...base, subject: 'Hi\r\nBcc: victim@example.test', text: 'x' });
  const mail = await simpleParser(raw);
  expect(mail.bcc).toBeUndefined();
  expect(mail.subject).toBe('Hi Bcc: victim@example.test');
});

test('when a header name is not a valid field name, then composing refuses it', () => {
  expect(() => composeMessage({ ...base, text: 'x', headers: { 'Bad Name': 'v' } })).toThrow(
    /invalid header name/,
  );
});

test('when a display name has specials or the domain is internationalized, then the address stays well-formed', () => {
  expect(formatAddress('Shop, Inc. <shop@example.test>')).toBe('"Shop, Inc." <shop@example.test>');
  expect(formatAddress('news@bücher.example')).toBe('news@xn--bcher-kva.example');
  expect(formatAddress('<bare@example.test>')).toBe('<bare@example.test>');
});

test('when an ASCII body has a line longer than SMTP allows, then it is sent base64 and decodes intact', async () => {
  const long = 'a'.repeat(1500);
  const raw = composeMessage({ ...base, text: long });
  expect(raw.toString()).toMatch(/Content-Transfer-Encoding: base64/);
  expect(
    raw
      .toString()
      .split('\r\n')
      .every((l) => l.length <= 998),
  ).toBe(true);
  expect((await simpleParser(raw)).text?.trim()).toBe(long);
});
