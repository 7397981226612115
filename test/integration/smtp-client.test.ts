// Our pipelining SMTP client (channels/email/smtp-connection.ts, smtp-pool.ts) through the email
// transport, against real servers over sockets: Postfix's smtp-sink with and without PIPELINING, and
// the smtp-server package scripted for STARTTLS, AUTH, refusals, an idle close and a stall. What is
// asserted is what a user sees: each message's classified outcome and what the server received.
import { once } from 'node:events';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { SmtpSinkProcess } from '../../bench/sink';
import { createEmailTransport, type EmailMessage, type EmailTransport } from '../../channels/email/transport';
import { DeliveryCode } from '../../domain/delivery-codes';
import { uniqueSuffix } from '../support/harness';

const transports: EmailTransport[] = [];
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const t of transports.splice(0)) t.close();
  for (const c of cleanups.splice(0).reverse()) await c();
});

function transport(
  url: string,
  extra: { maxConnections?: number; maxMessages?: number; socketTimeoutMs?: number } = {},
) {
  const t = createEmailTransport({
    url,
    maxConnections: extra.maxConnections ?? 1,
    maxMessages: extra.maxMessages ?? 1000,
    socketTimeoutMs: extra.socketTimeoutMs,
  });
  transports.push(t);
  return t;
}

function message(to: string, extra: Partial<EmailMessage> = {}): EmailMessage {
  const token = uniqueSuffix() + uniqueSuffix();
  return {
    from: 'Shop <news@example.test>',
    to,
    subject: 'Notice',
    text: 'Hello',
    envelopeFrom: `b+${token}@bounce.example.test`,
    messageId: `<${token}@bounce.example.test>`,
    ...extra,
  };
}

async function waitFor(what: string, predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 3000 && !predicate(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!predicate()) throw new Error(`never happened: ${what}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A TCP proxy in front of `port` that counts the chunks the client's writes arrive in. */
async function countingProxy(port: number): Promise<{ url: string; chunks: () => number }> {
  let chunks = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port });
    sockets.add(client).add(upstream);
    client.on('data', (d: Buffer) => {
      chunks++;
      upstream.write(d);
    });
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  return { url: `smtp://127.0.0.1:${(server.address() as AddressInfo).port}`, chunks: () => chunks };
}

async function postfixSink(extraArgs: string[] = []): Promise<SmtpSinkProcess> {
  const sink = await SmtpSinkProcess.start({ port: await freePort(), extraArgs });
  cleanups.push(() => sink.stop());
  // smtp-sink listens once it has started; connect until it answers.
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port: sink.opts.port });
      s.once('data', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return sink;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("Postfix's smtp-sink", () => {
  test('when it offers PIPELINING and many messages are queued, then all arrive and each costs about one client write (content, dot and next envelope together)', async () => {
    const sink = await postfixSink();
    const proxy = await countingProxy(sink.opts.port);
    const t = transport(proxy.url);
    const n = 40;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => t.send(message(`p${i}@receiver.test`))),
    );

    expect(results.map((r) => r.outcome.result)).toEqual(Array(n).fill('sent'));
    await waitFor('the sink counted every message', () => sink.received() === n);
    // EHLO, the first envelope, then one write per message (nodemailer's pool: three or four).
    expect(proxy.chunks()).toBeLessThanOrEqual(n + 2);
  });

  test('when it does not offer PIPELINING, then the client goes in lock-step (one command per write, each after its reply) and all arrive', async () => {
    const sink = await postfixSink(['-p']);
    const proxy = await countingProxy(sink.opts.port);
    const t = transport(proxy.url);
    const n = 10;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => t.send(message(`l${i}@receiver.test`))),
    );

    expect(results.map((r) => r.outcome.result)).toEqual(Array(n).fill('sent'));
    await waitFor('the sink counted every message', () => sink.received() === n);
    // EHLO, then MAIL FROM, RCPT TO, DATA and the content each in its own write: nothing was sent
    // ahead of a reply (several commands in one write would arrive as fewer chunks).
    expect(proxy.chunks()).toBe(1 + 4 * n);
  });

  test('when it does not speak ESMTP (EHLO refused), then the client falls back to HELO and the message arrives', async () => {
    const sink = await postfixSink(['-e']);
    const t = transport(sink.url);
    const res = await t.send(message('helo@receiver.test'));

    expect(res.outcome.result).toBe('sent');
    await waitFor('the sink counted the message', () => sink.received() === 1);
  });
});

interface Received {
  to: string;
  from: string;
  raw: Buffer;
  secure: boolean;
  user: string | undefined;
  /** The server's id of the session (connection) that carried it. */
  session: string;
}

/** smtp-server with defaults for these tests; `received` gets every accepted message. */
async function smtpServer(options: SMTPServerOptions = {}): Promise<{
  url: (query?: string) => string;
  received: Received[];
  connections: () => number;
  closed: () => number;
}> {
  const received: Received[] = [];
  let connections = 0;
  let closed = 0;
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    allowInsecureAuth: true,
    disableReverseLookup: true,
    onAuth: (auth, _session, cb) => cb(null, { user: auth.username }),
    closeTimeout: 100,
    onConnect(_session, cb) {
      connections++;
      cb();
    },
    onClose(_session, cb?: () => void) {
      closed++;
      cb?.();
    },
    onData(stream, session: SMTPServerSession, cb) {
      const parts: Buffer[] = [];
      stream.on('data', (d: Buffer) => parts.push(d));
      stream.on('end', () => {
        received.push({
          to: session.envelope.rcptTo[0]!.address,
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          raw: Buffer.concat(parts),
          secure: session.secure,
          user: session.user as string | undefined,
          session: session.id,
        });
        cb();
      });
    },
    ...options,
  } as SMTPServerOptions);
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  cleanups.push(() => new Promise((r) => server.close(() => r(undefined))));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: (query = 'tls=off') => `smtp://u%40x:p%20w@127.0.0.1:${port}?${query}`,
    received,
    connections: () => connections,
    closed: () => closed,
  };
}

function smtpError(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

describe('the smtp-server package', () => {
  test('when the server offers STARTTLS and requires AUTH, then the session is upgraded, we log in and the message arrives', async () => {
    const server = await smtpServer({
      authOptional: false,
      authMethods: ['PLAIN', 'LOGIN'],
      onAuth(auth, _session, cb) {
        if (auth.username === 'u@x' && auth.password === 'p w') cb(null, { user: auth.username });
        else cb(smtpError(535, 'Authentication failed'));
      },
    });
    const t = transport(server.url('tls=insecure'));
    const res = await t.send(message('tls@receiver.test'));

    expect(res.outcome.result).toBe('sent');
    expect(server.received).toHaveLength(1);
    expect(server.received[0]).toMatchObject({ to: 'tls@receiver.test', secure: true, user: 'u@x' });
  });

  test('when the certificate is not trusted (no tls=insecure), then the send waits as a relay TLS fault', async () => {
    const server = await smtpServer();
    const res = await transport(server.url('')).send(message('tls@receiver.test'));

    expect(res.outcome).toMatchObject({ result: 'error', relayFault: 'relay_tls' });
    expect(server.received).toHaveLength(0);
  });

  test('when the server refuses our credentials, then the send waits as a relay authentication fault', async () => {
    const server = await smtpServer({
      authMethods: ['PLAIN'],
      onAuth: (_auth, _session, cb) => cb(smtpError(535, '5.7.8 Authentication credentials invalid')),
    });
    const res = await transport(server.url()).send(message('auth@receiver.test'));

    expect(res.outcome).toMatchObject({ relayFault: 'relay_auth', code: DeliveryCode.AuthenticationFailed });
  });

  test('when a recipient is refused with 550 5.1.1 among pipelined messages on one connection, then only it is a hard unknown user and the others (also the one right after it) arrive', async () => {
    const server = await smtpServer({
      onRcptTo(address, _session, cb) {
        if (address.address.startsWith('gone')) cb(smtpError(550, '5.1.1 user unknown'));
        else cb();
      },
    });
    const t = transport(server.url());
    const to = ['a@receiver.test', 'gone@receiver.test', 'b@receiver.test', 'c@receiver.test'];
    const results = await Promise.all(to.map((addr) => t.send(message(addr))));

    expect(results[1]!.outcome).toMatchObject({ result: 'error', errorType: 'hard', reason: 'unknown_user' });
    expect(results[1]!.response).toBe('550 5.1.1 user unknown');
    expect([0, 2, 3].map((i) => results[i]!.outcome.result)).toEqual(['sent', 'sent', 'sent']);
    expect(server.received.map((m) => m.to)).toEqual([
      'a@receiver.test',
      'b@receiver.test',
      'c@receiver.test',
    ]);
    expect(server.connections()).toBe(1);
  });

  test('when the server defers the content with 451 after the final dot, then that message is a soft error and the next one on the connection arrives', async () => {
    const server = await smtpServer({
      onData(stream, session, cb) {
        stream.resume();
        stream.on('end', () => {
          if (session.envelope.rcptTo[0]!.address.startsWith('later'))
            cb(smtpError(451, '4.3.0 try again later'));
          else cb();
        });
      },
    });
    const t = transport(server.url());
    const [deferred, next] = await Promise.all([
      t.send(message('later@receiver.test')),
      t.send(message('next@receiver.test')),
    ]);

    expect(deferred.outcome).toMatchObject({
      result: 'error',
      errorType: 'soft',
      retryable: true,
      relayFault: null,
    });
    expect(deferred.response).toBe('451 4.3.0 try again later');
    expect(next.outcome.result).toBe('sent');
    expect(server.connections()).toBe(1);
  });

  test('when the server closed an idle connection (421 on its own timeout), then the next message goes out on a new connection', async () => {
    const server = await smtpServer({ socketTimeout: 300 });
    const t = transport(server.url());
    expect((await t.send(message('first@receiver.test'))).outcome.result).toBe('sent');
    await waitFor('the server closed the idle session', () => server.closed() === 1);

    const res = await t.send(message('second@receiver.test'));
    expect(res.outcome.result).toBe('sent');
    expect(server.received.map((m) => m.to)).toEqual(['first@receiver.test', 'second@receiver.test']);
    expect(server.connections()).toBe(2);
  });

  test('when the server stalls after the final dot, then the message counts as delivered after a timeout (not resent), and the next one gets a fresh connection', async () => {
    let stall = true;
    const server = await smtpServer({
      onData(stream, _session, cb) {
        stream.resume();
        stream.on('end', () => {
          if (!stall) cb();
        });
      },
    });
    const t = transport(server.url(), { socketTimeoutMs: 300 });
    const res = await t.send(message('stalled@receiver.test'));

    expect(res.outcome).toMatchObject({
      code: DeliveryCode.DeliveredAfterTimeout,
      result: 'sent',
      relayFault: null,
    });
    stall = false;
    expect((await t.send(message('after@receiver.test'))).outcome.result).toBe('sent');
    expect(server.connections()).toBe(2);
  });

  test('when the server stalls before the content (at RCPT TO), then the send waits as a relay fault, never counted delivered', async () => {
    const server = await smtpServer({ onRcptTo: () => undefined });
    const res = await transport(server.url(), { socketTimeoutMs: 300 }).send(message('stuck@receiver.test'));

    expect(res.outcome).toMatchObject({ result: 'error', relayFault: 'relay_unreachable' });
    // The detail names the command in flight and the timeout.
    expect(res.outcome.detail).toContain('[RCPT TO]');
    expect(res.outcome.detail).toContain('ETIMEDOUT Timeout');
  });

  test('when a connection has carried maxMessages, then it is replaced and every message arrives once', async () => {
    const server = await smtpServer();
    const t = transport(server.url(), { maxConnections: 2, maxMessages: 3 });
    const to = Array.from({ length: 12 }, (_, i) => `r${i}@receiver.test`);
    const results = await Promise.all(to.map((addr) => t.send(message(addr))));

    expect(results.map((r) => r.outcome.result)).toEqual(Array(12).fill('sent'));
    expect(server.received.map((m) => m.to).sort()).toEqual([...to].sort());
    // At most three messages a connection, so at least four connections.
    const perConnection = new Map<string, number>();
    for (const m of server.received) perConnection.set(m.session, (perConnection.get(m.session) ?? 0) + 1);
    expect(Math.max(...perConnection.values())).toBe(3);
    expect(perConnection.size).toBeGreaterThanOrEqual(4);
  });

  test('when lines of the text begin with a dot, then they arrive as written', async () => {
    const server = await smtpServer();
    const text = '.starts with a dot\r\n.\r\n..two\r\nend';
    const res = await transport(server.url()).send(message('dots@receiver.test', { text }));

    expect(res.outcome.result).toBe('sent');
    const parsed = await simpleParser(server.received[0]!.raw);
    expect(parsed.text?.replace(/\r?\n$/, '')).toBe(text.replace(/\r\n/g, '\n'));
  });
});
