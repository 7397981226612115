// The email transport over real sockets: composed source, VERP envelope and
// pooled connections that survive a refused recipient and a relay that went
// away between messages.
import { simpleParser } from 'mailparser';
import { createEmailTransport, type EmailMessage, type EmailTransport } from '../../channels/email/transport';
import { SmtpSink } from '../../dev/smtp-sink';
import { uniqueSuffix } from '../support/harness';

let sink: SmtpSink;
let port: number;
let transport: EmailTransport;

beforeEach(async () => {
  sink = new SmtpSink({ port: 0 });
  ({ port } = await sink.start());
  transport = createEmailTransport({ url: `smtp://127.0.0.1:${port}`, maxConnections: 2, maxMessages: 100 });
});

afterEach(async () => {
  transport.close();
  await sink.stop();
});

function message(to: string, extra: Partial<EmailMessage> = {}): EmailMessage {
  const token = uniqueSuffix() + uniqueSuffix();
  return {
    from: 'Shop <news@example.test>',
    to,
    subject: 'ご案内 / Notice',
    text: 'Hello',
    envelopeFrom: `b+${token}@bounce.example.test`,
    messageId: `<${token}@bounce.example.test>`,
    headers: { 'X-Send-Token': token },
    ...extra,
  };
}

test('when a message is sent, then the relay receives our source under the VERP envelope and the outcome is sent', async () => {
  const m = message('one@receiver.test');
  const res = await transport.send(m);
  expect(res.outcome.result).toBe('sent');
  expect(res.messageId).toBe(m.messageId);
  const [got] = sink.messagesTo('one@receiver.test');
  expect(got!.from).toBe(m.envelopeFrom);
  const parsed = await simpleParser(got!.raw);
  expect(parsed.subject).toBe('ご案内 / Notice');
  expect(parsed.messageId).toBe(m.messageId);
  expect(parsed.headers.get('x-send-token')).toBe(m.headers!['X-Send-Token']);
});

test('when the relay refuses a recipient, then that message is a hard error and the next one still goes through', async () => {
  sink.script('gone@receiver.test', {
    kind: 'reject-rcpt',
    code: 550,
    enhanced: '5.1.1',
    text: 'user unknown',
  });
  const refused = await transport.send(message('gone@receiver.test'));
  expect(refused.outcome).toMatchObject({ result: 'error', errorType: 'hard' });
  expect(refused.messageId).toBeNull();
  const next = await transport.send(message('next@receiver.test'));
  expect(next.outcome.result).toBe('sent');
  expect(sink.messagesTo('next@receiver.test')).toHaveLength(1);
});

test('when an address would break the SMTP command line (CR LF, angle brackets, NUL), then the message is refused before any server sees it', async () => {
  for (const to of [
    'a@receiver.test\r\nRCPT TO:<b@receiver.test>',
    '<c@receiver.test>',
    'd@receiver.test\u0000e',
  ]) {
    const res = await transport.send(message(to));
    expect(res.outcome).toMatchObject({ result: 'pre_error' });
    expect(res.response).toContain('Invalid recipient');
  }
  const badSender = await transport.send(
    message('f@receiver.test', { envelopeFrom: 'b+x\u0000@bounce.example.test' }),
  );
  expect(badSender.outcome.result).toBe('error');
  expect(badSender.response).toContain('Invalid sender');
  expect(sink.messagesTo('b@receiver.test')).toHaveLength(0);
  expect(sink.messagesTo('f@receiver.test')).toHaveLength(0);
});

test('when the relay closed the pooled connections between messages, then the next message goes out on a new one', async () => {
  expect((await transport.send(message('before@receiver.test'))).outcome.result).toBe('sent');
  // The relay restarts on the same port: every idle pooled connection is gone.
  await sink.stop();
  sink = new SmtpSink({ port });
  await sink.start();
  const after = await transport.send(message('after@receiver.test'));
  expect(after.outcome.result).toBe('sent');
  expect(sink.messagesTo('after@receiver.test')).toHaveLength(1);
});

test('when many messages are sent at once, then each arrives exactly once over the bounded pool', async () => {
  const to = Array.from({ length: 40 }, (_, i) => `many${i}@receiver.test`);
  const results = await Promise.all(to.map((t) => transport.send(message(t))));
  expect(results.every((r) => r.outcome.result === 'sent')).toBe(true);
  for (const t of to) expect(sink.messagesTo(t)).toHaveLength(1);
});
