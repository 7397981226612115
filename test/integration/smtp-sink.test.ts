// Drives the dev SMTP sink with real nodemailer transports over TCP, so the failure
// shapes asserted here are the ones the email channel will actually see.
import { createConnection } from 'node:net';
import nodemailer, { type NodemailerError, type SendMailOptions, type Transporter } from 'nodemailer';
import { decodeEncodedWords, parseHeaders, SmtpSink, type SmtpSinkOptions } from '../../dev/smtp-sink';

let sink: SmtpSink;
let port: number;
let logLines: string[];
const transports: Transporter[] = [];

async function startSink(opts: SmtpSinkOptions = {}): Promise<void> {
  logLines = [];
  sink = new SmtpSink({ logger: (l) => logLines.push(l), ...opts });
  ({ port } = await sink.start());
}

function transport(
  extra: { pool?: boolean; maxConnections?: number; socketTimeout?: number } = {},
): Transporter {
  const t = extra.pool
    ? nodemailer.createTransport({
        pool: true,
        host: '127.0.0.1',
        port,
        secure: false,
        ignoreTLS: true,
        maxConnections: extra.maxConnections ?? 1,
        maxMessages: Infinity,
      })
    : nodemailer.createTransport({
        host: '127.0.0.1',
        port,
        secure: false,
        ignoreTLS: true,
        socketTimeout: extra.socketTimeout,
      });
  transports.push(t);
  return t;
}

function mail(to: string | string[], extra: Partial<SendMailOptions> = {}): SendMailOptions {
  return { from: 'sender@orchestrator.test', to, subject: 'Hello', text: 'Body line\r\n', ...extra };
}

async function sendFailing(t: Transporter, m: SendMailOptions): Promise<NodemailerError> {
  try {
    const info: unknown = await t.sendMail(m);
    throw new Error(`expected the send to fail, it resolved with ${JSON.stringify(info)}`);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('expected the send to fail')) throw err;
    return err as NodemailerError;
  }
}

function connectionCount(): number {
  return logLines.filter((l) => l.includes('connection from')).length;
}

beforeEach(async () => {
  await startSink();
});

afterEach(async () => {
  for (const t of transports.splice(0)) t.close();
  await sink.stop();
});

describe('accepting mail', () => {
  test('when a message is accepted, then it is recorded with its envelope, headers and raw body', async () => {
    const info = await transport().sendMail(
      mail('"Header Name" <header-to@example.test>', {
        envelope: { from: 'bounces+run1@orchestrator.test', to: ['rcpt@example.test'] },
        subject:
          'Héllo wörld ✓ with a subject long enough that nodemailer splits it into several encoded words',
        headers: { 'X-Send-Token': 'tok-123' },
        list: { unsubscribe: 'https://orchestrator.test/unsubscribe?token=abc' },
        text: 'first line\r\n.leading dot survives\r\n',
      }),
    );

    expect(sink.receivedCount()).toBe(1);
    expect(sink.messages).toHaveLength(1);
    const got = sink.messages[0]!;
    expect(got.from).toBe('bounces+run1@orchestrator.test');
    expect(got.to).toEqual(['rcpt@example.test']);
    expect(got.headers.get('message-id')).toBe(info.messageId);
    expect(got.headers.get('x-send-token')).toBe('tok-123');
    expect(got.headers.get('list-unsubscribe')).toBe('<https://orchestrator.test/unsubscribe?token=abc>');
    expect(got.headers.get('to')).toBe('Header Name <header-to@example.test>');
    expect(got.subject).toBe(
      'Héllo wörld ✓ with a subject long enough that nodemailer splits it into several encoded words',
    );
    expect(got.raw.toString()).toContain('\r\n\r\nfirst line\r\n.leading dot survives\r\n');
    expect(got.receivedAt).toBeInstanceOf(Date);
  });

  test('when a long header is folded by the client, then the recorded value is unfolded', async () => {
    const long = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    await transport().sendMail(mail('fold@example.test', { headers: { 'X-Long': long } }));

    const raw = sink.messages[0]!.raw.toString();
    expect(raw).toMatch(/X-Long: [^\r]*\r\n[ \t]/); // really folded on the wire
    expect(sink.messages[0]!.headers.get('x-long')?.replace(/\s+/g, ' ')).toBe(long);
  });

  test('when onMessage is subscribed, then the listener sees each message until it unsubscribes', async () => {
    const seen: string[] = [];
    const off = sink.onMessage((m) => seen.push(m.to.join(',')));
    const t = transport();
    await t.sendMail(mail('one@example.test'));
    off();
    await t.sendMail(mail('two@example.test'));

    expect(seen).toEqual(['one@example.test']);
    expect(sink.receivedCount()).toBe(2);
  });

  test('when a pooled transport sends many messages, then all go over one connection and each is recorded once', async () => {
    const t = transport({ pool: true, maxConnections: 1 });
    const addresses = Array.from({ length: 50 }, (_, i) => `pooled${i}@example.test`);
    await Promise.all(addresses.map((a) => t.sendMail(mail(a))));

    expect(sink.receivedCount()).toBe(50);
    for (const a of addresses) expect(sink.messagesTo(a)).toHaveLength(1);
    expect(connectionCount()).toBe(1);
  });

  test('when one transaction has several recipients and one is rejected, then the others get the message', async () => {
    sink.script('nobody@example.test', {
      kind: 'reject-rcpt',
      code: 550,
      enhanced: '5.1.1',
      text: 'user unknown',
    });
    const info = await transport().sendMail(
      mail(['a@example.test', 'nobody@example.test', 'b@example.test']),
    );

    expect(info.accepted).toEqual(['a@example.test', 'b@example.test']);
    expect(info.rejected).toEqual(['nobody@example.test']);
    expect(sink.receivedCount()).toBe(1);
    expect(sink.messages[0]!.to).toEqual(['a@example.test', 'b@example.test']);
    expect(sink.messagesTo('nobody@example.test')).toHaveLength(0);
  });

  test('when messagesTo is given a differently cased address, then it still finds the messages', async () => {
    await transport().sendMail(mail('CaseTest@Example.test'));
    expect(sink.messagesTo('casetest@EXAMPLE.TEST')).toHaveLength(1);
    expect(sink.messagesTo('other@example.test')).toHaveLength(0);
  });

  test('when keepMessages is limited, then only the latest are kept but all are counted', async () => {
    await sink.stop();
    await startSink({ keepMessages: 2 });
    const t = transport();
    for (const n of [1, 2, 3]) await t.sendMail(mail(`keep${n}@example.test`));

    expect(sink.receivedCount()).toBe(3);
    expect(sink.messages.map((m) => m.to[0])).toEqual(['keep2@example.test', 'keep3@example.test']);
  });

  test('when keepMessages is 0, then nothing is stored but every message is counted', async () => {
    await sink.stop();
    await startSink({ keepMessages: 0 });
    const t = transport({ pool: true });
    await Promise.all([1, 2, 3].map((n) => t.sendMail(mail(`count${n}@example.test`))));

    expect(sink.receivedCount()).toBe(3);
    expect(sink.messages).toHaveLength(0);
  });

  test('when a message exceeds maxMessageBytes, then the send fails with 552 5.3.4 and nothing is recorded', async () => {
    await sink.stop();
    await startSink({ maxMessageBytes: 2_000 });
    const err = await sendFailing(transport(), mail('big@example.test', { text: 'x'.repeat(10_000) }));

    expect(err.code).toBe('EMESSAGE');
    expect(err.responseCode).toBe(552);
    expect(err.response).toContain('5.3.4');
    expect(sink.receivedCount()).toBe(0);
  });
});

describe('scripted failures', () => {
  test('when a recipient is scripted to 550 5.1.1, then the send fails with EENVELOPE and nothing is recorded', async () => {
    sink.script('gone@example.test', {
      kind: 'reject-rcpt',
      code: 550,
      enhanced: '5.1.1',
      text: 'user unknown',
    });
    const err = await sendFailing(transport(), mail('gone@example.test'));

    expect(err.code).toBe('EENVELOPE');
    expect(err.responseCode).toBe(550);
    expect(err.response).toBe('550 5.1.1 user unknown');
    expect(err.permanent).toBe(true);
    expect(sink.receivedCount()).toBe(0);
    expect(sink.messages).toHaveLength(0);
  });

  test('when a recipient is scripted to 452 4.2.2, then the send fails with a transient EENVELOPE and nothing is recorded', async () => {
    sink.script('full@example.test', {
      kind: 'reject-rcpt',
      code: 452,
      enhanced: '4.2.2',
      text: 'mailbox full',
    });
    const err = await sendFailing(transport(), mail('full@example.test'));

    expect(err.code).toBe('EENVELOPE');
    expect(err.responseCode).toBe(452);
    expect(err.response).toContain('4.2.2');
    expect(err.permanent).toBe(false);
    expect(sink.receivedCount()).toBe(0);
  });

  test('when a recipient is scripted to 421 4.7.0 at RCPT, then the server hangs up and the send fails with ECONNECTION carrying the 421', async () => {
    sink.script('busy@example.test', { kind: 'reject-rcpt', code: 421, enhanced: '4.7.0', text: 'too busy' });
    const err = await sendFailing(transport(), mail('busy@example.test'));

    expect(err.code).toBe('ECONNECTION');
    expect(err.responseCode).toBe(421);
    expect(err.response).toBe('421 4.7.0 too busy');
    expect(sink.receivedCount()).toBe(0);
  });

  test('when the default enhanced code is used, then it matches the reply class', async () => {
    sink.script('plain@example.test', { kind: 'reject-rcpt', code: 554 });
    const err = await sendFailing(transport(), mail('plain@example.test'));

    expect(err.responseCode).toBe(554);
    expect(err.response).toMatch(/^554 5\.\d+\.\d+ /);
  });

  test('when a recipient is scripted to reject after DATA with 550 5.7.1, then the send fails with EMESSAGE and nothing is recorded', async () => {
    sink.script('spam@example.test', {
      kind: 'reject-data',
      code: 550,
      enhanced: '5.7.1',
      text: 'looks like spam',
    });
    const err = await sendFailing(transport(), mail('spam@example.test'));

    expect(err.code).toBe('EMESSAGE');
    expect(err.command).toBe('DATA');
    expect(err.responseCode).toBe(550);
    expect(err.response).toBe('550 5.7.1 looks like spam');
    expect(sink.receivedCount()).toBe(0);
  });

  test('when one of several recipients is scripted to reject after DATA, then the whole message is rejected', async () => {
    sink.script('spam@example.test', { kind: 'reject-data', code: 554, enhanced: '5.7.1', text: 'no' });
    const err = await sendFailing(transport(), mail(['ok@example.test', 'spam@example.test']));

    expect(err.code).toBe('EMESSAGE');
    expect(err.responseCode).toBe(554);
    expect(sink.receivedCount()).toBe(0);
  });

  test('when a recipient is scripted to drop at RCPT, then the send fails with ECONNECTION, nothing is recorded and the sink keeps serving', async () => {
    sink.script('drop@example.test', { kind: 'drop-rcpt' });
    const t = transport();
    const err = await sendFailing(t, mail('drop@example.test'));

    expect(['ECONNECTION', 'ESOCKET']).toContain(err.code);
    expect(err.responseCode).toBeUndefined();
    expect(sink.receivedCount()).toBe(0);

    await t.sendMail(mail('after@example.test'));
    expect(sink.messagesTo('after@example.test')).toHaveLength(1);
  });

  test('when a recipient is scripted to drop mid-DATA, then the send fails with ECONNECTION and nothing is recorded', async () => {
    sink.script('dropdata@example.test', { kind: 'drop-data' });
    const err = await sendFailing(transport(), mail('dropdata@example.test', { text: 'y'.repeat(200_000) }));

    expect(['ECONNECTION', 'ESOCKET']).toContain(err.code);
    expect(err.responseCode).toBeUndefined();
    expect(sink.receivedCount()).toBe(0);
    expect(logLines.some((l) => l.includes('DATA for <dropdata@example.test> -> dropping connection'))).toBe(
      true,
    );
  });

  test('when a pooled connection is dropped mid-DATA, then only that message fails and later ones go through', async () => {
    sink.script('dropdata@example.test', { kind: 'drop-data' });
    const t = transport({ pool: true });
    await t.sendMail(mail('before@example.test'));
    const err = await sendFailing(t, mail('dropdata@example.test'));
    await t.sendMail(mail('after@example.test'));

    expect(['ECONNECTION', 'ESOCKET']).toContain(err.code);
    expect(sink.messages.map((m) => m.to[0])).toEqual(['before@example.test', 'after@example.test']);
    expect(connectionCount()).toBe(2);
  });

  test('when a recipient is scripted slow, then the final reply is delayed and the message is recorded', async () => {
    sink.script('slow@example.test', { kind: 'slow', delayMs: 400 });
    const started = Date.now();
    await transport().sendMail(mail('slow@example.test'));

    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    expect(sink.messagesTo('slow@example.test')).toHaveLength(1);
  });

  test('when the client times out waiting for a slow reply, then it sees ETIMEDOUT yet the message is still recorded', async () => {
    sink.script('slow@example.test', { kind: 'slow', delayMs: 800 });
    const err = await sendFailing(transport({ socketTimeout: 200 }), mail('slow@example.test'));

    expect(err.code).toBe('ETIMEDOUT');
    expect(sink.receivedCount()).toBe(0);
    await sink.waitFor(() => sink.receivedCount() === 1, 60_000);
    expect(sink.messagesTo('slow@example.test')).toHaveLength(1);
  });

  test('when a recipient is greylisted twice, then the first two attempts get 451 4.7.1 and the third is accepted', async () => {
    sink.script('grey@example.test', { kind: 'greylist', times: 2 });
    const t = transport();
    const first = await sendFailing(t, mail('grey@example.test'));
    const second = await sendFailing(t, mail('grey@example.test'));
    await t.sendMail(mail('grey@example.test'));
    await t.sendMail(mail('grey@example.test'));

    for (const err of [first, second]) {
      expect(err.code).toBe('EENVELOPE');
      expect(err.responseCode).toBe(451);
      expect(err.response).toContain('4.7.1');
    }
    expect(sink.messagesTo('grey@example.test')).toHaveLength(2);
  });

  test('when a behaviour array is scripted, then each attempt takes the next entry and the last one repeats', async () => {
    sink.script('seq@example.test', [
      { kind: 'reject-rcpt', code: 452, enhanced: '4.2.2' },
      { kind: 'accept' },
      { kind: 'reject-data', code: 550, enhanced: '5.7.1' },
    ]);
    const t = transport({ pool: true });
    const codes: Array<number | 'ok'> = [];
    for (let i = 0; i < 4; i++) {
      try {
        await t.sendMail(mail('seq@example.test'));
        codes.push('ok');
      } catch (err) {
        codes.push((err as NodemailerError).responseCode ?? -1);
      }
    }

    expect(codes).toEqual([452, 'ok', 550, 550]);
    expect(sink.receivedCount()).toBe(1);
  });

  test('when a script uses different casing from the recipient, then it still applies', async () => {
    sink.script('Mixed.Case@Example.TEST', { kind: 'reject-rcpt', code: 550 });
    const err = await sendFailing(transport(), mail('mixed.case@example.test'));
    expect(err.responseCode).toBe(550);
  });

  test('when scripts are cleared, then the address is accepted again', async () => {
    sink.script('cleared@example.test', { kind: 'reject-rcpt', code: 550 });
    sink.clearScripts();
    await transport().sendMail(mail('cleared@example.test'));
    expect(sink.messagesTo('cleared@example.test')).toHaveLength(1);
  });

  test('when a behaviour is invalid, then script() throws', () => {
    expect(() => sink.script('x@example.test', { kind: 'reject-rcpt', code: 250 })).toThrow(/4xx\/5xx/);
    expect(() => sink.script('x@example.test', [])).toThrow(/at least one/);
  });
});

describe('local-part conventions', () => {
  test.each([
    ['bounce550+t1@example.test', 'EENVELOPE', 550, '5.1.1'],
    ['full+t1@example.test', 'EENVELOPE', 452, '4.2.2'],
    ['defer421+t1@example.test', 'ECONNECTION', 421, '4.7.0'],
    ['block+t1@example.test', 'EMESSAGE', 550, '5.7.1'],
  ])(
    'when mail goes to %s, then it fails with %s %i %s and nothing is recorded',
    async (to, code, responseCode, enhanced) => {
      const err = await sendFailing(transport(), mail(to));

      expect(err.code).toBe(code);
      expect(err.responseCode).toBe(responseCode);
      expect(err.response).toContain(enhanced);
      expect(sink.receivedCount()).toBe(0);
    },
  );

  test('when the block+ convention is used, then the reply says the message was rejected as spam', async () => {
    const err = await sendFailing(transport(), mail('block+t2@example.test'));
    expect(err.response).toBe('550 5.7.1 message rejected as unsolicited (spam)');
  });

  test.each(['drop+t1@example.test', 'dropdata+t1@example.test'])(
    'when mail goes to %s, then the connection drops and nothing is recorded',
    async (to) => {
      const err = await sendFailing(transport(), mail(to));
      expect(['ECONNECTION', 'ESOCKET']).toContain(err.code);
      expect(err.responseCode).toBeUndefined();
      expect(sink.receivedCount()).toBe(0);
    },
  );

  test('when mail goes to greylist+, then the first attempt gets 451 and the retry is accepted', async () => {
    const t = transport();
    const err = await sendFailing(t, mail('greylist+t1@example.test'));
    await t.sendMail(mail('greylist+t1@example.test'));

    expect(err.responseCode).toBe(451);
    expect(err.response).toContain('4.7.1');
    expect(sink.messagesTo('greylist+t1@example.test')).toHaveLength(1);
  });

  test('when mail goes to slow+, then it is accepted after about three seconds', async () => {
    const started = Date.now();
    await transport().sendMail(mail('slow+t1@example.test'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_900);
    expect(sink.messagesTo('slow+t1@example.test')).toHaveLength(1);
  });

  test('when the local part is upper case, then the convention still applies', async () => {
    const err = await sendFailing(transport(), mail('BOUNCE550+Upper@Example.test'));
    expect(err.responseCode).toBe(550);
  });

  test('when the keyword has no + tag or is only a prefix, then the address is accepted', async () => {
    const t = transport();
    await t.sendMail(mail('bounce550@example.test'));
    await t.sendMail(mail('fuller+x@example.test'));
    expect(sink.receivedCount()).toBe(2);
  });

  test('when an address with a convention is explicitly scripted, then the script wins', async () => {
    sink.script('bounce550+scripted@example.test', { kind: 'accept' });
    await transport().sendMail(mail('bounce550+scripted@example.test'));
    expect(sink.messagesTo('bounce550+scripted@example.test')).toHaveLength(1);
  });
});

describe('lifecycle and helpers', () => {
  test('when a pooled client is still connected, then stop() closes promptly and the port refuses connections', async () => {
    const t = transport({ pool: true });
    await t.sendMail(mail('pooled@example.test'));
    expect(connectionCount()).toBe(1);

    // Promptly: nodemailer would keep its idle pooled connection for 10 minutes
    // (socketTimeout); a generous bound still tells the two apart on a busy machine.
    const started = Date.now();
    await sink.stop();
    expect(Date.now() - started).toBeLessThan(30_000);

    const refused = await new Promise<string>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve('connected');
      });
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });

  test('when stop() is called during a slow reply, then it returns promptly and the message is not recorded', async () => {
    sink.script('slow@example.test', { kind: 'slow', delayMs: 120_000 });
    const pending = transport()
      .sendMail(mail('slow@example.test'))
      .then(
        () => 'sent',
        (e: NodemailerError) => e.code ?? 'error',
      );
    // The session is open (the reply will take two minutes once the data is in).
    await sink.waitFor(() => connectionCount() === 1, 60_000);

    // Promptly: far sooner than the slow reply would come.
    const started = Date.now();
    await sink.stop();
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(['ECONNECTION', 'ESOCKET']).toContain(await pending);
    expect(sink.receivedCount()).toBe(0);
  });

  test('when start() gets a port already in use, then it rejects', async () => {
    const other = new SmtpSink({ port });
    await expect(other.start()).rejects.toThrow(/EADDRINUSE/);
  });

  test('when waitFor times out, then it rejects with a message saying what was received', async () => {
    await transport().sendMail(mail('seen@example.test'));
    await expect(sink.waitFor(() => sink.receivedCount() >= 2, 100)).rejects.toThrow(
      /timed out after 100 ms \(received 1 messages, latest to: seen@example.test\)/,
    );
  });

  test('when the predicate becomes true, then waitFor resolves', async () => {
    const t = transport();
    const done = sink.waitFor(() => sink.messagesTo('later@example.test').length === 1, 60_000);
    void t.sendMail(mail('later@example.test'));
    await expect(done).resolves.toBeUndefined();
  });

  test('when start() resolves, then the url points at the bound port', async () => {
    const other = new SmtpSink();
    const started = await other.start();
    try {
      expect(started.port).toBeGreaterThan(0);
      expect(started.url).toBe(`smtp://127.0.0.1:${started.port}`);
    } finally {
      await other.stop();
    }
  });
});

describe('header helpers', () => {
  test('when a header block has folded and repeated headers, then the first value is kept unfolded', () => {
    const raw = Buffer.from(
      'Received: first\r\nReceived: second\r\nSubject: part one\r\n\tpart two\r\nX-Empty:\r\n\r\nBody: not a header\r\n',
    );
    const h = parseHeaders(raw);
    expect(h.get('received')).toBe('first');
    expect(h.get('subject')).toBe('part one\tpart two');
    expect(h.get('x-empty')).toBe('');
    expect(h.has('body')).toBe(false);
  });

  test('when encoded words are adjacent or mixed with text, then they decode to the original', () => {
    expect(decodeEncodedWords('=?UTF-8?B?w6k=?= =?UTF-8?Q?t=C3=A9?= plain =?ISO-8859-1?Q?caf=E9?=')).toBe(
      'été plain café',
    );
    expect(decodeEncodedWords('no encoding here')).toBe('no encoding here');
  });
});

describe('refusing as a misconfigured relay, for everybody', () => {
  function authed(): Transporter {
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port,
      secure: false,
      ignoreTLS: true,
      auth: { user: 'relay-user', pass: 'relay-secret' },
    });
    transports.push(t);
    return t;
  }

  test('when relaying is refused, then every recipient gets 554 5.7.1 Relay access denied at RCPT until refuse(null)', async () => {
    sink.refuse({ kind: 'relay' });
    for (const to of ['a@one.test', 'b@two.test']) {
      const err = await sendFailing(transport(), mail(to));
      expect(err.code).toBe('EENVELOPE');
      expect(err.responseCode).toBe(554);
      expect(err.response).toBe(`554 5.7.1 <${to}>: Relay access denied`);
    }
    expect(sink.refusals()).toBe(2);
    sink.refuse(null);
    await transport().sendMail(mail('c@three.test'));
    expect(sink.messagesTo('c@three.test')).toHaveLength(1);
  });

  test('when AUTH is refused, then a client logging in gets EAUTH 535 5.7.8, and a session already open is hung up', async () => {
    const pooled = nodemailer.createTransport({
      pool: true,
      host: '127.0.0.1',
      port,
      secure: false,
      ignoreTLS: true,
      maxConnections: 1,
      auth: { user: 'relay-user', pass: 'relay-secret' },
    });
    transports.push(pooled);
    await pooled.sendMail(mail('before@one.test'));
    sink.refuse({ kind: 'auth' });
    const err = await sendFailing(authed(), mail('x@one.test'));
    expect(err.code).toBe('EAUTH');
    expect(err.responseCode).toBe(535);
    // The pooled session logged in before the refusal is gone: its next message must log in again.
    await sendFailing(pooled, mail('after@one.test'));
    expect(sink.messagesTo('after@one.test')).toHaveLength(0);
    expect(sink.refusals()).toBeGreaterThanOrEqual(2);
  });

  test('when greetings are refused, then every connection is answered 421 4.3.2 and closed', async () => {
    sink.refuse({ kind: 'greeting' });
    const err = await sendFailing(transport(), mail('x@one.test'));
    expect(err.responseCode).toBe(421);
    expect(err.response).toContain('4.3.2');
    expect(sink.receivedCount()).toBe(0);
  });

  test('when a refusal code is not 4xx/5xx, then refuse() throws', () => {
    expect(() => sink.refuse({ kind: 'relay', code: 250 })).toThrow(/4xx\/5xx/);
  });
});
