// Local SMTP sink for `npm start` and the integration tests: a real SMTP server on a
// TCP socket that records what it accepts and can be scripted, per recipient, to fail
// the way real MTAs do.
//
// Recipients can also be scripted through their local part, so a run started through
// the REST API (where a test cannot call script()) still hits failures. The tag after
// the '+' is free, so every test can use its own addresses. Matching is
// case-insensitive; an explicit script() for the address wins.
//
//   local part        behaviour
//   ----------------  -------------------------------------------------------------
//   bounce550+...     RCPT TO -> 550 5.1.1 user unknown
//   full+...          RCPT TO -> 452 4.2.2 mailbox full
//   defer421+...      RCPT TO -> 421 4.7.0 try again later (server closes connection)
//   greylist+...      RCPT TO -> 451 4.7.1 on the first attempt, accepted afterwards
//   drop+...          socket closed when the recipient is given in RCPT TO
//   dropdata+...      socket closed mid-DATA, before the final dot is acknowledged
//   block+...         after DATA -> 550 5.7.1 message rejected as unsolicited (spam)
//   slow+...          accepted, final DATA reply delayed by 3000 ms
//
// An "attempt" is one RCPT TO for the address. A behaviour array is consumed one
// entry per attempt and its last entry repeats; `greylist` takes `times` attempts
// (4xx each) and the attempt after it is accepted. Counters reset on script() and
// clearScripts().
//
// Relay-level refusals (the sink playing a misconfigured relay) apply to every client at once,
// whatever the recipient, until refuse(null): refuse({ kind: 'auth' }) answers every AUTH with
// 535 5.7.8; refuse({ kind: 'relay' }) every RCPT TO with 554 5.7.1 "<rcpt>: Relay access denied"
// (code and text can be given); refuse({ kind: 'greeting' }) greets every connection with
// 421 4.3.2 and hangs up; refusing AUTH or greetings also hangs up the sessions already open,
// so every client meets the refusal. refusals() counts what was refused so far.
//
// Several recipients in one transaction: RCPT-stage behaviours apply per recipient;
// DATA-stage ones apply to the whole transaction (SMTP has a single DATA reply), with
// drop-data winning over reject-data, and slow delaying by the largest delay.
import type { Socket } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

export type SinkBehaviour =
  | { kind: 'accept' }
  | { kind: 'reject-rcpt'; code: number; enhanced?: string; text?: string }
  | { kind: 'reject-data'; code: number; enhanced?: string; text?: string }
  | { kind: 'drop-rcpt' }
  | { kind: 'drop-data' }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'greylist'; times: number; code?: number; enhanced?: string; text?: string };

/** A refusal of the relay itself, for every recipient alike. */
export type SinkRefusal =
  | { kind: 'auth' }
  | { kind: 'relay'; code?: number; enhanced?: string; text?: string }
  | { kind: 'greeting'; code?: number; enhanced?: string; text?: string };

export interface ReceivedMail {
  /** Envelope MAIL FROM ('' for the null sender). */
  from: string;
  /** Envelope RCPT TO, accepted recipients only. */
  to: string[];
  raw: Buffer;
  /** Lower-cased header name -> first value, unfolded, not decoded. */
  headers: Map<string, string>;
  /** Decoded (RFC 2047) Subject, '' when absent. */
  subject: string;
  receivedAt: Date;
}

export interface SmtpSinkOptions {
  /** 0 = random free port. */
  port?: number;
  host?: string;
  maxMessageBytes?: number;
  logger?: (line: string) => void;
  /** How many of the most recent messages to keep; receivedCount() counts all. */
  keepMessages?: number;
}

type Step = Exclude<SinkBehaviour, { kind: 'greylist' }>;
type DataStep = Extract<Step, { kind: 'reject-data' | 'drop-data' | 'slow' }>;

const CONVENTIONS: ReadonlyMap<string, readonly SinkBehaviour[]> = new Map<string, SinkBehaviour[]>([
  ['bounce550', [{ kind: 'reject-rcpt', code: 550, enhanced: '5.1.1', text: 'user unknown' }]],
  ['full', [{ kind: 'reject-rcpt', code: 452, enhanced: '4.2.2', text: 'mailbox full' }]],
  [
    'defer421',
    [{ kind: 'reject-rcpt', code: 421, enhanced: '4.7.0', text: 'try again later, closing connection' }],
  ],
  ['greylist', [{ kind: 'greylist', times: 1 }]],
  ['drop', [{ kind: 'drop-rcpt' }]],
  ['dropdata', [{ kind: 'drop-data' }]],
  [
    'block',
    [{ kind: 'reject-data', code: 550, enhanced: '5.7.1', text: 'message rejected as unsolicited (spam)' }],
  ],
  ['slow', [{ kind: 'slow', delayMs: 3000 }]],
]);
const CONVENTION_RE = /^([a-z0-9]+)\+[^@]*@/i;

const DEFAULT_ENHANCED: Readonly<Record<number, string>> = {
  421: '4.7.0',
  450: '4.2.1',
  451: '4.3.0',
  452: '4.2.2',
  550: '5.1.1',
  551: '5.1.6',
  552: '5.2.2',
  553: '5.1.3',
  554: '5.7.1',
};

/** Error shape smtp-server turns into a reply line. */
interface SmtpReplyError extends Error {
  responseCode: number;
}

export class SmtpSink {
  readonly messages: ReceivedMail[] = [];

  private readonly opts: SmtpSinkOptions;
  private readonly keep: number;
  private readonly log: (line: string) => void;
  private server: SMTPServer | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly listeners = new Set<(mail: ReceivedMail) => void>();
  private readonly scripts = new Map<string, Step[]>();
  private readonly attempts = new Map<string, number>();
  // session id -> recipient -> behaviour to apply once DATA arrives
  private readonly dataStage = new Map<string, Map<string, DataStep>>();
  private count = 0;
  private stopping = false;
  private refusal: SinkRefusal | null = null;
  private refused = 0;

  constructor(opts: SmtpSinkOptions = {}) {
    this.opts = opts;
    this.keep = opts.keepMessages ?? Infinity;
    this.log = opts.logger ?? (() => undefined);
  }

  async start(): Promise<{ port: number; url: string }> {
    if (this.server) throw new Error('SmtpSink already started');
    this.stopping = false;
    const host = this.opts.host ?? '127.0.0.1';
    const server = new SMTPServer({
      name: 'smtp-sink.local',
      banner: 'smtp-sink',
      logger: false,
      disableReverseLookup: true,
      authOptional: true,
      // Accept any credentials in clear text so an app configured with SMTP auth works unchanged.
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      size: this.opts.maxMessageBytes,
      // Enhanced codes stay off so smtp-server does not prepend its own guess
      // (it maps every 550 to 5.1.1); ours are written into the reply text.
      hideENHANCEDSTATUSCODES: true,
      onConnect: (_session, cb) => {
        const r = this.refusal;
        if (r?.kind !== 'greeting') return cb();
        this.refused++;
        return cb(
          replyError({
            code: r.code ?? 421,
            enhanced: r.enhanced ?? '4.3.2',
            text: r.text ?? 'service not available',
          }),
        );
      },
      onAuth: (auth, _session, cb) => {
        if (this.refusal?.kind === 'auth') {
          this.refused++;
          return cb(replyError({ code: 535, enhanced: '5.7.8', text: 'authentication credentials invalid' }));
        }
        return cb(null, { user: auth.username ?? 'anonymous' });
      },
      onMailFrom: (_address, session, cb) => {
        // A new transaction: forget DATA-stage behaviours of an abandoned one.
        this.dataStage.delete(session.id);
        cb();
      },
      onRcptTo: (address, session, cb) => this.handleRcpt(address.address, session, cb),
      onData: (stream, session, cb) => this.handleData(stream, session, cb),
      onClose: (session) => {
        this.dataStage.delete(session.id);
      },
    });
    // Client sockets that error out (resets, our own drops) are reported here; without a
    // listener the EventEmitter would throw.
    server.on('error', (err: Error) => this.log(`smtp-sink: ${err.message}`));
    server.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      this.log(`smtp-sink: connection from ${socket.remoteAddress}:${socket.remotePort}`);
      socket.once('close', () => this.sockets.delete(socket));
    });

    const port = await new Promise<number>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      server.server.once('error', onError);
      server.listen(this.opts.port ?? 0, host, () => {
        server.server.off('error', onError);
        const addr = server.server.address();
        if (addr === null || typeof addr === 'string') return reject(new Error('smtp-sink: no TCP address'));
        resolve(addr.port);
      });
    });
    this.server = server;
    const url = `smtp://${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.log(`smtp-sink: listening on ${url}`);
    return { port, url };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    this.stopping = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // smtp-server would otherwise wait closeTimeout (30 s) for clients, e.g. pooled
      // ones, to hang up.
      for (const socket of this.sockets) socket.destroy();
    });
    this.dataStage.clear();
    this.log('smtp-sink: stopped');
  }

  script(address: string, behaviour: SinkBehaviour | SinkBehaviour[]): void {
    const list = Array.isArray(behaviour) ? behaviour : [behaviour];
    if (list.length === 0) throw new Error('smtp-sink: script() needs at least one behaviour');
    const key = address.toLowerCase();
    this.scripts.set(key, expand(list));
    this.attempts.delete(key);
  }

  /** Refuse every client alike (see the header), or stop refusing with null. */
  refuse(refusal: SinkRefusal | null): void {
    if (refusal?.kind === 'relay' || refusal?.kind === 'greeting') {
      const code = refusal.code;
      if (code !== undefined && (!Number.isInteger(code) || code < 400 || code > 599))
        throw new Error(`smtp-sink: refusal code ${code} is not 4xx/5xx`);
    }
    this.refusal = refusal;
    // A relay that starts refusing logins or connections hangs up the sessions it has: every client
    // must connect (and log in) again to meet the refusal, as after a relay restart.
    if (refusal?.kind === 'auth' || refusal?.kind === 'greeting') {
      for (const socket of this.sockets) socket.destroy();
    }
  }

  /** How many connections, AUTH commands or recipients were refused by refuse() so far. */
  refusals(): number {
    return this.refused;
  }

  clearScripts(): void {
    this.scripts.clear();
    this.attempts.clear();
  }

  messagesTo(address: string): ReceivedMail[] {
    const key = address.toLowerCase();
    return this.messages.filter((m) => m.to.some((t) => t.toLowerCase() === key));
  }

  receivedCount(): number {
    return this.count;
  }

  onMessage(listener: (mail: ReceivedMail) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  async waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() >= deadline) {
        const recent = this.messages
          .slice(-5)
          .map((m) => m.to.join(','))
          .join('; ');
        throw new Error(
          `smtp-sink: waitFor timed out after ${timeoutMs} ms (received ${this.count} messages` +
            `${recent ? `, latest to: ${recent}` : ''})`,
        );
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Picks the behaviour for this attempt and advances the address's attempt counter. */
  private nextStep(address: string): Step {
    const key = address.toLowerCase();
    let steps = this.scripts.get(key);
    if (!steps) {
      const m = CONVENTION_RE.exec(key);
      const convention = m?.[1] === undefined ? undefined : CONVENTIONS.get(m[1]);
      if (!convention) return { kind: 'accept' };
      steps = expand(convention);
    }
    // Single-step scripts need no counter, which keeps the bench's 100k addresses out of the map.
    if (steps.length === 1) return steps[0] ?? { kind: 'accept' };
    const n = this.attempts.get(key) ?? 0;
    this.attempts.set(key, n + 1);
    return steps[Math.min(n, steps.length - 1)] ?? { kind: 'accept' };
  }

  private handleRcpt(address: string, session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    const r = this.refusal;
    if (r?.kind === 'relay') {
      this.refused++;
      const err = replyError({
        code: r.code ?? 554,
        enhanced: r.enhanced ?? '5.7.1',
        text: r.text ?? `<${address}>: Relay access denied`,
      });
      this.log(`smtp-sink: RCPT <${address}> -> ${err.responseCode} ${err.message}`);
      return cb(err);
    }
    const step = this.nextStep(address);
    switch (step.kind) {
      case 'accept':
        return cb();
      case 'reject-rcpt': {
        const err = replyError(step);
        this.log(`smtp-sink: RCPT <${address}> -> ${err.responseCode} ${err.message}`);
        return cb(err);
      }
      case 'drop-rcpt':
        this.log(`smtp-sink: RCPT <${address}> -> dropping connection`);
        this.socketOf(session)?.destroy();
        return cb(replyError({ code: 421, text: 'connection dropped' }));
      case 'reject-data':
      case 'drop-data':
      case 'slow': {
        let pending = this.dataStage.get(session.id);
        if (!pending) this.dataStage.set(session.id, (pending = new Map()));
        pending.set(address.toLowerCase(), step);
        return cb();
      }
    }
  }

  private handleData(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    cb: (err?: Error | null, message?: string) => void,
  ): void {
    const rcpts = session.envelope.rcptTo.map((r) => r.address);
    const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const pending = this.dataStage.get(session.id);
    this.dataStage.delete(session.id);
    let drop = false;
    let reject: Extract<Step, { kind: 'reject-data' }> | undefined;
    let delayMs = 0;
    if (pending) {
      for (const r of rcpts) {
        const step = pending.get(r.toLowerCase());
        if (step?.kind === 'drop-data') drop = true;
        else if (step?.kind === 'reject-data') reject ??= step;
        else if (step?.kind === 'slow') delayMs = Math.max(delayMs, step.delayMs);
      }
    }

    // An error is emitted on the stream when the client goes away mid-message; the
    // message is then simply not recorded.
    stream.on('error', () => undefined);

    if (drop) {
      // Wait for the first chunk so the client is already past the 354 and streaming:
      // it then sees the connection die while waiting for the final reply.
      stream.once('data', () => {
        this.log(`smtp-sink: DATA for <${rcpts.join(', ')}> -> dropping connection`);
        this.socketOf(session)?.destroy();
      });
      stream.resume();
      return;
    }

    // With nothing to store or notify, skip buffering (the benchmark path).
    const needBody = this.keep > 0 || this.listeners.size > 0;
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => {
      if (needBody && !stream.sizeExceeded) chunks.push(chunk);
    });
    stream.on('end', () => {
      if (stream.sizeExceeded) {
        const limit = this.opts.maxMessageBytes ?? 0;
        const err = replyError({
          code: 552,
          enhanced: '5.3.4',
          text: `message exceeds fixed limit of ${limit} bytes`,
        });
        this.log(`smtp-sink: DATA for <${rcpts.join(', ')}> -> 552 (${stream.byteLength} bytes)`);
        return cb(err);
      }
      if (reject) {
        const err = replyError(reject);
        this.log(`smtp-sink: DATA for <${rcpts.join(', ')}> -> ${err.responseCode} ${err.message}`);
        return cb(err);
      }
      const accept = (): void => {
        // Recorded before the 250 goes out, so a client whose send resolved can assert at once.
        this.record(from, rcpts, needBody ? Buffer.concat(chunks) : null);
        cb(null, `OK: queued as ${this.count}`);
      };
      if (delayMs <= 0) return accept();
      // Recorded when the delay elapses even if the client gave up meanwhile: a real MTA
      // that committed the message delivers it, which is how retries after a timeout
      // produce duplicates.
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (!this.stopping) accept();
      }, delayMs);
      this.timers.add(timer);
    });
  }

  private record(from: string, to: string[], raw: Buffer | null): void {
    this.count++;
    if (raw === null) return;
    const headers = parseHeaders(raw);
    const mail: ReceivedMail = {
      from,
      to,
      raw,
      headers,
      subject: decodeEncodedWords(headers.get('subject') ?? ''),
      receivedAt: new Date(),
    };
    if (this.keep > 0) {
      this.messages.push(mail);
      if (this.messages.length > this.keep) this.messages.shift();
    }
    for (const listener of this.listeners) {
      try {
        listener(mail);
      } catch (err) {
        this.log(`smtp-sink: onMessage listener threw: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  private socketOf(session: SMTPServerSession): Socket | undefined {
    // smtp-server does not expose the socket of a session; match on the peer's port,
    // preferring an address match for the (unlikely) case of two peers sharing a port.
    let byPort: Socket | undefined;
    for (const s of this.sockets) {
      if (s.remotePort !== session.remotePort) continue;
      if (stripMapped(s.remoteAddress) === stripMapped(session.remoteAddress)) return s;
      byPort ??= s;
    }
    return byPort;
  }
}

function expand(list: readonly SinkBehaviour[]): Step[] {
  const steps: Step[] = [];
  list.forEach((b, i) => {
    validate(b);
    if (b.kind !== 'greylist') return void steps.push(b);
    const reject: Step = {
      kind: 'reject-rcpt',
      code: b.code ?? 451,
      enhanced: b.enhanced ?? '4.7.1',
      text: b.text ?? 'greylisted, try again later',
    };
    for (let n = 0; n < b.times; n++) steps.push(reject);
    // The retry after the greylist window is what gets through.
    if (i === list.length - 1 || b.times === 0) steps.push({ kind: 'accept' });
  });
  return steps;
}

function validate(b: SinkBehaviour): void {
  const bad = (why: string): never => {
    throw new Error(`smtp-sink: invalid ${b.kind} behaviour: ${why}`);
  };
  switch (b.kind) {
    case 'reject-rcpt':
    case 'reject-data':
      if (!Number.isInteger(b.code) || b.code < 400 || b.code > 599) bad(`code ${b.code} is not 4xx/5xx`);
      break;
    case 'greylist':
      if (!Number.isInteger(b.times) || b.times < 0) bad(`times ${b.times}`);
      if (b.code !== undefined && (b.code < 400 || b.code > 499)) bad(`code ${b.code} is not 4xx`);
      break;
    case 'slow':
      if (!(b.delayMs >= 0)) bad(`delayMs ${b.delayMs}`);
      break;
    default:
      break;
  }
}

function replyError(r: { code: number; enhanced?: string; text?: string }): SmtpReplyError {
  const enhanced = r.enhanced ?? DEFAULT_ENHANCED[r.code] ?? `${Math.floor(r.code / 100)}.0.0`;
  const text = r.text ?? (r.code >= 500 ? 'requested action not taken' : 'try again later');
  return Object.assign(new Error(`${enhanced} ${text}`), { responseCode: r.code });
}

function stripMapped(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:/i, '');
}

/** Parses only the header block: first value per lower-cased name, folded lines joined. */
export function parseHeaders(raw: Buffer): Map<string, string> {
  const headers = new Map<string, string>();
  let end = raw.indexOf('\r\n\r\n');
  if (end < 0) end = raw.indexOf('\n\n');
  if (end < 0) end = raw.length;
  const lines = raw.subarray(0, end).toString('utf8').split(/\r?\n/);
  let name: string | null = null;
  let value = '';
  const flush = (): void => {
    if (name !== null && !headers.has(name)) headers.set(name, value.trim());
  };
  for (const line of lines) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && name !== null) {
      value += line;
      continue;
    }
    flush();
    const colon = line.indexOf(':');
    if (colon <= 0) {
      name = null;
      continue;
    }
    name = line.slice(0, colon).trim().toLowerCase();
    value = line.slice(colon + 1);
  }
  flush();
  return headers;
}

const ENCODED_WORD = /=\?([^?*]+)(?:\*[^?]*)?\?([bBqQ])\?([^?]*)\?=/g;

/** Minimal RFC 2047 decoding, enough for nodemailer's B/Q encoded subjects. */
export function decodeEncodedWords(value: string): string {
  if (!value.includes('=?')) return value;
  let out = '';
  let last = 0;
  // Adjacent words are joined as bytes first: an encoder may split a multi-byte
  // character across two words.
  let charset: string | null = null;
  let bytes: Buffer[] = [];
  for (const m of value.matchAll(ENCODED_WORD)) {
    const [word, cs = 'utf-8', enc = 'B', text = ''] = m;
    const between = value.slice(last, m.index);
    last = (m.index ?? 0) + word.length;
    const adjacent = charset !== null && /^\s*$/.test(between);
    if (charset !== null && (!adjacent || charset !== cs.toLowerCase())) {
      out += decodeBytes(charset, Buffer.concat(bytes));
      bytes = [];
    }
    if (!adjacent) out += between;
    charset = cs.toLowerCase();
    bytes.push(
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64')
        : Buffer.from(
            text
              .replace(/_/g, ' ')
              .replace(/=([0-9a-fA-F]{2})/g, (_s, hex: string) => String.fromCharCode(parseInt(hex, 16))),
            'latin1',
          ),
    );
  }
  if (charset !== null) out += decodeBytes(charset, Buffer.concat(bytes));
  return out + value.slice(last);
}

function decodeBytes(charset: string, bytes: Buffer): string {
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}
