// One SMTP client connection to our relay: connect (implicit TLS or STARTTLS when offered), greeting,
// EHLO (HELO as fallback), AUTH, then a stream of transactions, one recipient each. With PIPELINING
// (RFC 2920) a message's content, its final dot and the next message's MAIL FROM, RCPT TO and DATA
// leave in one write (the content may open a group; DATA closes it), so a message costs one write and
// one round trip; without PIPELINING the commands go in lock-step.
//
// Errors carry nodemailer's shape (code, response, responseCode, command), the one
// domain/smtp-classification.ts and domain/relay-faults.ts read, for the same situations: EENVELOPE at
// MAIL FROM / RCPT TO / the DATA verb, EMESSAGE on the reply to the final dot (command 'DATA'),
// ECONNECTION / ESOCKET / EDNS / ETLS / EAUTH / EPROTOCOL for the session, ETIMEDOUT with the command
// in flight ('DATA' only once the message's final dot was written: the relay may have it).
//
// The connection takes its messages from its pool (./smtp-pool.ts), which decides what happens to a
// message the connection could not finish (retried on a fresh connection or failed).
import { hostname } from 'node:os';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { TransportError } from '../../domain/smtp-classification';
import { dotStuff } from './smtp-dot-stuffing';
import { SmtpReplyError, SmtpReplyParser, type SmtpReplyLine } from './smtp-reply';

export interface SmtpEndpoint {
  host: string;
  port: number;
  /** Implicit TLS (smtps://). */
  secure: boolean;
  /** Upgrade with STARTTLS when the server offers it (false: tls=off). */
  startTls: boolean;
  rejectUnauthorized: boolean;
  user?: string;
  pass?: string;
  /** From the connection attempt until the session is ready (greeting, EHLO, STARTTLS, AUTH). */
  connectionTimeoutMs: number;
  /** Socket inactivity while a reply is awaited; an idle connection is closed quietly after it. */
  socketTimeoutMs: number;
  /** Transactions per connection, then QUIT. */
  maxMessages: number;
  /** EHLO name; defaults to the host name when it is a domain, else [127.0.0.1] (as nodemailer). */
  name?: string;
}

export type SmtpJobResult = { ok: true; response: string } | { ok: false; error: TransportError };

/** One message for one recipient, composed. */
export interface SmtpJob {
  from: string;
  to: string;
  source: Buffer;
  /** Times the message went back to the pool's queue after a connection failed under it. */
  requeues: number;
  settle(result: SmtpJobResult): void;
}

/** What a connection needs from its pool. */
export interface SmtpConnectionHost {
  /** The next queued message, or null. */
  take(): SmtpJob | null;
  /** A message that never reached its final dot goes back to the queue (the pool bounds how often). */
  requeue(job: SmtpJob, error: TransportError): void;
  /** The connection takes no more messages (closed, failed or retiring). Called once. */
  gone(connection: SmtpConnection): void;
}

type Stage = 'MAIL FROM' | 'RCPT TO' | 'DATA' | 'DOT';

interface Transaction {
  job: SmtpJob;
  /** Not the connection's first transaction: the connection had carried mail before. */
  reused: boolean;
  /** The reply awaited next (pipelined: the first one not yet received). */
  stage: Stage;
  /** The first refusal of the envelope; the transaction fails with it once its group is answered. */
  error: TransportError | null;
  /** The content and its final dot were handed to the socket: the relay may have the message. */
  dotWritten: boolean;
}

type Expected =
  { kind: 'mail' | 'rcpt' | 'data' | 'dot' | 'empty-dot'; tx: Transaction } | { kind: 'rset' | 'quit' };

const CRLF = '\r\n';
const TRANSIENT_CODES = new Set(['ECONNECTION', 'ESOCKET', 'ETIMEDOUT']);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'ENODATA']);

/** nodemailer's error shape: the code, and the reply and command when there is one. */
export function smtpError(
  message: string,
  code: string,
  response?: string | null,
  command?: string,
): TransportError & Error {
  const err = new Error(response ? `${message}: ${response}` : message) as TransportError & Error;
  err.code = code;
  if (response) {
    err.response = response;
    const rc = Number(/^\d+/.exec(response)?.[0]);
    if (rc) err.responseCode = rc;
  }
  if (command) err.command = command;
  return err;
}

/** A failure that says nothing against the message: it may go out on another connection. */
export function isTransient(err: TransportError): boolean {
  return err.responseCode === 421 || TRANSIENT_CODES.has(err.code ?? '');
}

function ehloName(): string {
  const name = hostname();
  return name.includes('.') ? name : '[127.0.0.1]';
}

function is2xx(r: SmtpReplyLine): boolean {
  return r.code >= 200 && r.code < 300;
}

export class SmtpConnection {
  private socket: Socket | TLSSocket;
  private parser = new SmtpReplyParser();
  /** Replies awaited during the session's setup. */
  private setupWaiter: ((r: SmtpReplyLine) => void) | null = null;
  private setupReplies: SmtpReplyLine[] = [];
  private setupTimer: NodeJS.Timeout | null = null;
  private ready = false;
  private ended = false;
  private pipelining = false;
  private smtpUtf8 = false;
  private expected: Expected[] = [];
  /** A transaction whose DATA verb is unanswered: nothing may be written until its 354. */
  private awaiting354 = false;
  private needRset = false;
  private started = 0;
  /** The message the pool opened this connection for, sent first once the session is ready. */
  private first: SmtpJob | null;
  /** The command whose reply is awaited during setup (for errors). */
  private setupCommand = 'CONN';

  constructor(
    private readonly endpoint: SmtpEndpoint,
    private readonly host: SmtpConnectionHost,
    first: SmtpJob,
  ) {
    this.first = first;
    const { host: h, port, secure, rejectUnauthorized } = endpoint;
    this.socket = secure
      ? tlsConnect({ host: h, port, servername: isIP(h) ? undefined : h, rejectUnauthorized })
      : netConnect({ host: h, port });
    this.attach(this.socket);
    this.setupTimer = setTimeout(
      () => this.fail(smtpError('Connection timeout', 'ETIMEDOUT', null, this.setupCommand)),
      endpoint.connectionTimeoutMs,
    );
    this.setup().catch((err: TransportError) => this.fail(err));
  }

  /** Offer the connection work: it takes a queued message when it can write an envelope now. */
  kick(): void {
    if (!this.ready || this.ended || this.awaiting354) return;
    if (!this.pipelining && this.expected.length > 0) return;
    const job = this.takeJob();
    if (!job) {
      this.retireIfDone();
      return;
    }
    this.write(this.envelope(job));
  }

  /** Will take the next queued message by itself, with the content of the one whose 354 it awaits. */
  get takesNextWithContent(): boolean {
    return (
      this.ready &&
      !this.ended &&
      this.pipelining &&
      this.awaiting354 &&
      this.started < this.endpoint.maxMessages
    );
  }

  /** Could write an envelope now; `idle`: nothing in flight at all. */
  canTake(idle: boolean): boolean {
    if (!this.ready || this.ended || this.awaiting354 || this.started >= this.endpoint.maxMessages)
      return false;
    return idle ? this.expected.length === 0 : this.pipelining;
  }

  /** Ends the connection now; messages in flight fail with `error` (never retried). */
  destroy(error: TransportError): void {
    this.fail(error, false);
  }

  // --- setup -------------------------------------------------------------------------------------

  private attach(socket: Socket | TLSSocket): void {
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    socket.on('timeout', this.onTimeout);
  }

  private detach(socket: Socket | TLSSocket): void {
    socket.off('data', this.onData);
    socket.off('error', this.onError);
    socket.off('close', this.onClose);
    socket.off('timeout', this.onTimeout);
  }

  private reply(command: string): Promise<SmtpReplyLine> {
    this.setupCommand = command;
    const queued = this.setupReplies.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => (this.setupWaiter = resolve));
  }

  private command(line: string, command: string): Promise<SmtpReplyLine> {
    this.write([Buffer.from(line + CRLF)]);
    return this.reply(command);
  }

  private async setup(): Promise<void> {
    const greeting = await this.reply('CONN');
    if (greeting.code !== 220) {
      throw smtpError(`Invalid greeting. response=${greeting.text}`, 'EPROTOCOL', greeting.text, 'CONN');
    }
    let caps = await this.hello();
    if (!this.endpoint.secure && this.endpoint.startTls && caps.has('STARTTLS')) {
      const r = await this.command('STARTTLS', 'STARTTLS');
      if (r.code !== 220) {
        throw smtpError('Error upgrading connection with STARTTLS', 'ETLS', r.text, 'STARTTLS');
      }
      await this.upgrade();
      caps = await this.hello();
    }
    if (this.endpoint.user !== undefined && caps.has('AUTH')) await this.login(caps.get('AUTH') ?? '');
    this.pipelining = caps.has('PIPELINING');
    this.smtpUtf8 = caps.has('SMTPUTF8');
    if (this.setupTimer) clearTimeout(this.setupTimer);
    this.setupTimer = null;
    if (this.ended) return;
    this.socket.setTimeout(this.endpoint.socketTimeoutMs);
    this.ready = true;
    const first = this.first;
    this.first = null;
    if (first) {
      this.started++;
      this.write(this.envelope(first, false));
    }
  }

  /** EHLO, or HELO when EHLO is refused; the capabilities by keyword, with their parameters. */
  private async hello(): Promise<Map<string, string>> {
    const name = this.endpoint.name ?? ehloName();
    const ehlo = await this.command(`EHLO ${name}`, 'EHLO');
    const caps = new Map<string, string>();
    if (is2xx(ehlo)) {
      for (const line of ehlo.lines.slice(1)) {
        const [keyword = '', ...params] = line.trim().split(/\s+/);
        caps.set(keyword.toUpperCase(), params.join(' ').toUpperCase());
      }
      return caps;
    }
    if (ehlo.code === 421) {
      throw smtpError(
        `Server terminates connection. response=${ehlo.text}`,
        'ECONNECTION',
        ehlo.text,
        'EHLO',
      );
    }
    const helo = await this.command(`HELO ${name}`, 'HELO');
    if (!is2xx(helo)) throw smtpError(`Invalid HELO. response=${helo.text}`, 'EPROTOCOL', helo.text, 'HELO');
    return caps;
  }

  private async upgrade(): Promise<void> {
    const plain = this.socket;
    this.detach(plain);
    const { host, rejectUnauthorized } = this.endpoint;
    const secured = tlsConnect({
      socket: plain,
      servername: isIP(host) ? undefined : host,
      rejectUnauthorized,
    });
    this.socket = secured;
    this.parser = new SmtpReplyParser();
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        secured.off('secureConnect', onSecure);
        reject(smtpError(`Error initiating TLS - ${err.message}`, 'ETLS', null, 'STARTTLS'));
      };
      const onSecure = () => {
        secured.off('error', onError);
        resolve();
      };
      secured.once('error', onError);
      secured.once('secureConnect', onSecure);
    });
    this.attach(secured);
  }

  private async login(mechanisms: string): Promise<void> {
    const user = this.endpoint.user ?? '';
    const pass = this.endpoint.pass ?? '';
    const offered = mechanisms.split(/\s+/);
    const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
    if (offered.includes('PLAIN')) {
      const r = await this.command(`AUTH PLAIN ${b64(`\u0000${user}\u0000${pass}`)}`, 'AUTH PLAIN');
      if (r.code !== 235) throw smtpError('Invalid login', 'EAUTH', r.text, 'AUTH PLAIN');
      return;
    }
    if (offered.includes('LOGIN')) {
      let r = await this.command('AUTH LOGIN', 'AUTH LOGIN');
      if (r.code !== 334) {
        throw smtpError(
          'Invalid login sequence while waiting for "334 VXNlcm5hbWU6"',
          'EAUTH',
          r.text,
          'AUTH LOGIN',
        );
      }
      r = await this.command(b64(user), 'AUTH LOGIN');
      if (r.code !== 334) {
        throw smtpError(
          'Invalid login sequence while waiting for "334 UGFzc3dvcmQ6"',
          'EAUTH',
          r.text,
          'AUTH LOGIN',
        );
      }
      r = await this.command(b64(pass), 'AUTH LOGIN');
      if (r.code !== 235) throw smtpError('Invalid login', 'EAUTH', r.text, 'AUTH LOGIN');
      return;
    }
    throw smtpError(`No supported authentication method (server offers ${mechanisms})`, 'EAUTH', null, 'API');
  }

  // --- transactions ------------------------------------------------------------------------------

  private takeJob(): SmtpJob | null {
    if (this.started >= this.endpoint.maxMessages) return null;
    const job = this.host.take();
    if (job) this.started++;
    return job;
  }

  /** The commands opening a transaction: all of them with PIPELINING, else the first one. */
  private envelope(job: SmtpJob, reused = this.started > 1): Buffer[] {
    const tx: Transaction = { job, reused, stage: 'MAIL FROM', error: null, dotWritten: false };
    // eslint-disable-next-line no-control-regex
    const utf8 = this.smtpUtf8 && /[^\x00-\x7f]/.test(job.from + job.to) ? ' SMTPUTF8' : '';
    let text = '';
    if (this.needRset) {
      this.needRset = false;
      this.expected.push({ kind: 'rset' });
      text += `RSET${CRLF}`;
      if (!this.pipelining) {
        this.pendingLockStep = { tx, utf8 };
        this.awaiting354 = true;
        return [Buffer.from(text)];
      }
    }
    text += `MAIL FROM:<${job.from}>${utf8}${CRLF}`;
    this.expected.push({ kind: 'mail', tx });
    if (this.pipelining) {
      text += `RCPT TO:<${job.to}>${CRLF}DATA${CRLF}`;
      this.expected.push({ kind: 'rcpt', tx }, { kind: 'data', tx });
    }
    this.awaiting354 = true;
    return [Buffer.from(text)];
  }

  /** A transaction whose 354 came: its content is written on the next turn (flushBody). */
  private pendingBody: Transaction | null = null;

  private readonly flushBody = (): void => {
    const tx = this.pendingBody;
    this.pendingBody = null;
    if (!tx || this.ended) return;
    tx.dotWritten = true;
    this.expected.push({ kind: 'dot', tx });
    const chunks = dotStuff(tx.job.source);
    // The next message's envelope rides along (RFC 2920: the content may open a group).
    this.awaiting354 = false;
    if (this.pipelining) {
      const next = this.takeJob();
      if (next) chunks.push(...this.envelope(next));
    }
    this.write(chunks);
  };

  /** Lock-step only: the transaction whose MAIL FROM waits for the RSET's reply. */
  private pendingLockStep: { tx: Transaction; utf8: string } | null = null;

  private onReply(r: SmtpReplyLine): void {
    const exp = this.expected.shift();
    if (!exp) {
      if (r.code === 421)
        this.quietClose(); // RFC 5321 §3.8: an idle session ended by the server
      else this.fail(smtpError('Unexpected Response', 'EPROTOCOL', r.text, 'CONN'));
      return;
    }
    switch (exp.kind) {
      case 'rset':
        if (!is2xx(r)) {
          // The session is unusable, the messages sent along it were not refused: they go back.
          this.fail(
            smtpError(`Could not reset session state. response=${r.text}`, 'EPROTOCOL', r.text, 'RSET'),
            true,
            true,
          );
          return;
        }
        if (this.pendingLockStep) {
          const { tx, utf8 } = this.pendingLockStep;
          this.pendingLockStep = null;
          this.expected.push({ kind: 'mail', tx });
          this.write([Buffer.from(`MAIL FROM:<${tx.job.from}>${utf8}${CRLF}`)]);
        }
        break;
      case 'mail': {
        const { tx } = exp;
        tx.stage = 'RCPT TO';
        if (!is2xx(r)) tx.error = smtpError('Mail command failed', 'EENVELOPE', r.text, 'MAIL FROM');
        if (!this.pipelining) {
          if (tx.error) {
            this.awaiting354 = false;
            this.endEnvelope(tx);
          } else {
            this.expected.push({ kind: 'rcpt', tx });
            this.write([Buffer.from(`RCPT TO:<${tx.job.to}>${CRLF}`)]);
          }
        }
        break;
      }
      case 'rcpt': {
        const { tx } = exp;
        tx.stage = 'DATA';
        if (!is2xx(r) && !tx.error) {
          tx.error =
            r.code === 421
              ? smtpError('Server closed the connection', 'ECONNECTION', r.text, 'CONN')
              : smtpError("Can't send mail - all recipients were rejected", 'EENVELOPE', r.text, 'RCPT TO');
        }
        if (!this.pipelining) {
          if (tx.error) {
            this.awaiting354 = false;
            this.endEnvelope(tx);
          } else {
            this.expected.push({ kind: 'data', tx });
            this.write([Buffer.from(`DATA${CRLF}`)]);
          }
        }
        break;
      }
      case 'data': {
        const { tx } = exp;
        if (tx.error) {
          this.awaiting354 = false;
          if (r.code >= 300 && r.code < 400) {
            // A server must refuse DATA without an accepted recipient; this one took it: end the
            // empty content so the session stays in step.
            this.expected.push({ kind: 'empty-dot', tx });
            this.write([Buffer.from(`.${CRLF}`)]);
            this.needRset = true;
            break;
          }
          this.endEnvelope(tx);
          break;
        }
        if (!(r.code >= 200 && r.code < 400)) {
          this.awaiting354 = false;
          tx.error = smtpError('Data command failed', 'EENVELOPE', r.text, 'DATA');
          this.endEnvelope(tx);
          break;
        }
        tx.stage = 'DOT';
        // The content goes out on the next turn of the event loop: a message queued in between (the
        // sender's next send, issued as a result settles) rides along as the next envelope, so a
        // message costs one write even when few are in flight. Nothing else is written meanwhile.
        this.pendingBody = tx;
        setImmediate(this.flushBody);
        break;
      }
      case 'dot': {
        const { tx } = exp;
        if (is2xx(r)) tx.job.settle({ ok: true, response: r.text });
        else tx.job.settle({ ok: false, error: smtpError('Message failed', 'EMESSAGE', r.text, 'DATA') });
        break;
      }
      case 'empty-dot':
        this.endEnvelope(exp.tx);
        break;
      case 'quit':
        this.quietClose();
        return;
    }
    if (r.code === 421) {
      // RFC 5321 §3.8: the server closes the channel; replies to anything sent along will not come.
      this.fail(smtpError('Server closed the connection', 'ECONNECTION', r.text, 'CONN'));
      return;
    }
    this.kick();
  }

  /** The envelope of `tx` failed (its error is set): settle it; the session needs an RSET. */
  private endEnvelope(tx: Transaction): void {
    this.needRset = true;
    this.settleOrRequeue(tx, tx.error!, true);
  }

  private retireIfDone(): void {
    if (this.started < this.endpoint.maxMessages || this.expected.length > 0 || this.ended) return;
    this.goneOnce();
    this.expected.push({ kind: 'quit' });
    this.write([Buffer.from(`QUIT${CRLF}`)]);
  }

  private write(chunks: Buffer[]): void {
    if (this.ended) return;
    const s = this.socket;
    if (chunks.length === 1) {
      s.write(chunks[0]!);
      return;
    }
    s.cork();
    for (const c of chunks) if (c.length > 0) s.write(c);
    s.uncork();
  }

  // --- socket events -----------------------------------------------------------------------------

  private readonly onData = (chunk: Buffer): void => {
    let replies: SmtpReplyLine[];
    try {
      replies = this.parser.push(chunk);
    } catch (err) {
      const e = err as SmtpReplyError;
      this.fail(smtpError(e.message, 'EPROTOCOL', e.response, this.ready ? 'CONN' : this.setupCommand));
      return;
    }
    for (const r of replies) {
      if (this.ended) return;
      if (!this.ready) {
        const waiter = this.setupWaiter;
        this.setupWaiter = null;
        if (waiter) waiter(r);
        else this.setupReplies.push(r);
      } else {
        this.onReply(r);
      }
    }
  };

  private readonly onError = (err: NodeJS.ErrnoException): void => {
    const code = err.code && DNS_CODES.has(err.code) ? 'EDNS' : 'ESOCKET';
    const e = smtpError(err.message, code, null, this.ready ? 'CONN' : this.setupCommand);
    if (err.code) (e as { originalCode?: string }).originalCode = err.code;
    this.fail(e);
  };

  private readonly onClose = (): void => {
    if (this.ended) return;
    const rest = this.parser.remainder();
    const response = /^[45]\d\d[ -]/.test(rest) ? rest : null;
    if (this.ready && this.expected.length === 0 && !response) {
      this.quietClose(); // the server ended an idle session
      return;
    }
    this.fail(
      smtpError(
        'Connection closed unexpectedly',
        'ECONNECTION',
        response,
        this.ready ? 'CONN' : this.setupCommand,
      ),
    );
  };

  private readonly onTimeout = (): void => {
    if (this.ready && this.expected.length === 0) {
      this.quietClose();
      return;
    }
    this.fail(smtpError('Timeout', 'ETIMEDOUT', null, this.ready ? 'CONN' : this.setupCommand));
  };

  // --- ending ------------------------------------------------------------------------------------

  private goneOnce(): void {
    if (this.reportedGone) return;
    this.reportedGone = true;
    this.host.gone(this);
  }

  private reportedGone = false;

  private quietClose(): void {
    this.end();
    // Nothing was in flight; a message the pool handed over for setup goes back to the queue.
    if (this.first) this.host.requeue(this.first, smtpError('Connection closed', 'ECONNECTION'));
    this.first = null;
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.setupTimer) clearTimeout(this.setupTimer);
    this.setupTimer = null;
    this.socket.destroy();
    this.goneOnce();
  }

  /**
   * The connection failed: every message in flight is settled. One whose final dot was written fails
   * with `error` as the reply to the dot ('DATA': the relay may have it); one that had not reached it
   * goes back to the pool when the failure is transient and the connection had carried mail before
   * (`retry`), else fails with `error` at its own stage.
   */
  private fail(error: TransportError, retry = true, requeueUnsent = false): void {
    if (this.ended) return;
    const expected = this.expected;
    this.expected = [];
    this.end();
    const seen = new Set<Transaction>();
    for (const exp of expected) {
      if (!('tx' in exp) || seen.has(exp.tx)) continue;
      const { tx } = exp;
      seen.add(tx);
      // A copy per message (an Error's message is not an own enumerable property: named here).
      const err: TransportError = { ...error, message: error.message };
      if (tx.dotWritten) err.command = exp.kind === 'dot' ? 'DATA' : error.command;
      else if (error.code === 'ETIMEDOUT')
        err.command = tx.stage === 'DATA' || tx.stage === 'DOT' ? 'CONN' : tx.stage;
      if (tx.error) {
        // The envelope was already refused; that refusal is the message's outcome.
        this.settleOrRequeue(tx, tx.error, retry);
        continue;
      }
      this.settleOrRequeue(tx, err, retry, requeueUnsent);
    }
    if (this.pendingBody) {
      const tx = this.pendingBody;
      this.pendingBody = null;
      this.settleOrRequeue(
        tx,
        error.code === 'ETIMEDOUT' ? { ...error, message: error.message, command: 'CONN' } : error,
        retry,
        requeueUnsent,
      );
    }
    if (this.pendingLockStep) {
      const { tx } = this.pendingLockStep;
      this.pendingLockStep = null;
      this.settleOrRequeue(tx, error, retry, requeueUnsent);
    }
    const first = this.first;
    this.first = null;
    if (first) {
      // The session never got ready: the message the connection was opened for carries the failure,
      // unless the server closed silently before greeting (nodemailer retried those too).
      const silent = error.code === 'ECONNECTION' && !error.response && this.setupCommand === 'CONN';
      if (retry && silent) this.host.requeue(first, error);
      else first.settle({ ok: false, error });
    }
  }

  private settleOrRequeue(tx: Transaction, error: TransportError, retry: boolean, always = false): void {
    if (retry && !tx.dotWritten && (always || (tx.reused && isTransient(error))))
      this.host.requeue(tx.job, error);
    else tx.job.settle({ ok: false, error });
  }
}
