// DATA content as written to the relay (RFC 5321 §4.5.2): dots doubled at line starts, CRLF.CRLF at
// the end, the source's bytes otherwise untouched and not copied when nothing needs stuffing.
import { dotStuff } from '../../channels/email/smtp-dot-stuffing';

const wire = (source: string) => Buffer.concat(dotStuff(Buffer.from(source))).toString();

test('when no line begins with a dot, then the source itself is written (no copy) followed by the final dot line', () => {
  const source = Buffer.from('Subject: hi\r\n\r\nHello. A dot.\r\n');
  const chunks = dotStuff(source);
  expect(chunks).toHaveLength(2);
  expect(chunks[0]).toBe(source);
  expect(Buffer.concat(chunks).toString()).toBe('Subject: hi\r\n\r\nHello. A dot.\r\n.\r\n');
});

test('when lines begin with a dot, then each gets a second one and nothing else changes', () => {
  expect(wire('a\r\n.b\r\n..c\r\n.\r\nd\r\n')).toBe('a\r\n..b\r\n...c\r\n..\r\nd\r\n.\r\n');
});

test('when the source itself begins with a dot, then its first line is stuffed too', () => {
  expect(wire('.first\r\nsecond\r\n')).toBe('..first\r\nsecond\r\n.\r\n');
});

test('when the source does not end with CRLF, then CRLF is added before the final dot', () => {
  expect(wire('last line')).toBe('last line\r\n.\r\n');
  expect(wire('ends with dot line\r\n.')).toBe('ends with dot line\r\n..\r\n.\r\n');
});

test('when the source is empty, then only the final dot line is written', () => {
  expect(wire('')).toBe('.\r\n');
});

test('when stuffed, then the chunks are slices of the source, not copies', () => {
  const source = Buffer.from('x\r\n.y\r\n');
  const [first, dot, rest] = dotStuff(source);
  expect(first!.buffer).toBe(source.buffer);
  expect(dot!.toString()).toBe('.');
  expect(rest!.buffer).toBe(source.buffer);
});
