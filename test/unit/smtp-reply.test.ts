// The SMTP reply parser (RFC 5321 §4.2) as the connection feeds it: arbitrary chunks off a socket.
import { SmtpReplyError, SmtpReplyParser } from '../../channels/email/smtp-reply';

const feed = (parser: SmtpReplyParser, ...chunks: string[]) =>
  chunks.flatMap((c) => parser.push(Buffer.from(c, 'utf8')));

test('when a single-line reply arrives, then it is returned with its code and text, enhanced code kept', () => {
  const [r, ...rest] = feed(new SmtpReplyParser(), '550 5.1.1 <a@b.test>: user unknown\r\n');
  expect(rest).toHaveLength(0);
  expect(r).toEqual({
    code: 550,
    text: '550 5.1.1 <a@b.test>: user unknown',
    lines: ['5.1.1 <a@b.test>: user unknown'],
  });
});

test('when a multi-line reply arrives, then it is one reply whose text joins the lines with a line feed', () => {
  const replies = feed(
    new SmtpReplyParser(),
    '250-mx.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n',
  );
  expect(replies).toEqual([
    {
      code: 250,
      text: '250-mx.test\n250-PIPELINING\n250-SIZE 10240000\n250 8BITMIME',
      lines: ['mx.test', 'PIPELINING', 'SIZE 10240000', '8BITMIME'],
    },
  ]);
});

test('when a reply is split across chunks anywhere, even inside the code or the line break, then it comes out once, whole', () => {
  const parser = new SmtpReplyParser();
  expect(feed(parser, '2', '50-fir', 'st\r')).toEqual([]);
  expect(feed(parser, '\n250 second', '\r')).toEqual([]);
  expect(feed(parser, '\n')).toEqual([
    { code: 250, text: '250-first\n250 second', lines: ['first', 'second'] },
  ]);
});

test('when several pipelined replies arrive in one chunk, then they come out in order', () => {
  const replies = feed(
    new SmtpReplyParser(),
    '250 2.0.0 Ok: queued\r\n250 2.1.0 Ok\r\n550 5.1.1 no\r\n354 go ahead\r\n',
  );
  expect(replies.map((r) => r.code)).toEqual([250, 250, 550, 354]);
  expect(replies[2]!.text).toBe('550 5.1.1 no');
});

test('when a UTF-8 character is split between two chunks, then the text decodes it intact', () => {
  const bytes = Buffer.from('550 5.1.1 ユーザー不明\r\n', 'utf8');
  const parser = new SmtpReplyParser();
  const cut = 14; // inside the second character's three bytes
  expect(parser.push(bytes.subarray(0, cut))).toEqual([]);
  expect(parser.push(bytes.subarray(cut))[0]!.text).toBe('550 5.1.1 ユーザー不明');
});

test('when lines end with a bare line feed or a reply is just its code, then it is still read', () => {
  expect(feed(new SmtpReplyParser(), '250-a\n250\n')).toEqual([
    { code: 250, text: '250-a\n250', lines: ['a', ''] },
  ]);
});

test('when the server sends something that is not a reply, then the parser throws with what it got', () => {
  expect(() => feed(new SmtpReplyParser(), 'HTTP/1.1 400 Bad Request\r\n')).toThrow(SmtpReplyError);
  expect(() => feed(new SmtpReplyParser(), '250x\r\n')).toThrow('Invalid server response');
});

test('when the connection ends inside a reply, then remainder() gives what was received of it', () => {
  const parser = new SmtpReplyParser();
  feed(parser, '421-4.7.0 closing\r\n421 4.7.0 bye');
  expect(parser.remainder()).toBe('421-4.7.0 closing\n421 4.7.0 bye');
  expect(new SmtpReplyParser().remainder()).toBe('');
});

test('when a reply grows past the size bound without ending, then the parser throws', () => {
  const parser = new SmtpReplyParser();
  expect(() => {
    for (let i = 0; i < 2000; i++) parser.push(Buffer.from(`250-${'x'.repeat(1000)}\r\n`));
  }).toThrow('exceeds maximum allowed size');
});
