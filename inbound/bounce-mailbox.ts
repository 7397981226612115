// The bounce mailbox: an SMTP listener for the VERP bounce domain. Receiving
// MTAs (or our relay) deliver DSNs and feedback reports to b+TOKEN@domain;
// each message goes through the inbound report pipeline. Mail for any other
// domain is refused (550), so this is never an open relay.
//
// It faces the internet, so hostile clients are bounded: a message is held
// only up to the size limit (past it the rest is read and dropped, and the
// answer is 552), connections are capped in all and per client address, each
// address gets so many new connections a minute, and an idle session is
// closed. The memory the listener can hold is about maxClients x
// maxMessageBytes.
import type { Socket } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { processInboundReport, type InboundDeps } from './process-report';

export interface BounceMailboxOptions {
  port: number;
  host?: string;
  /** Largest accepted message; DSNs that return the whole original can be big. */
  maxMessageBytes?: number;
  /** Concurrent sessions in all; more are answered 421 and closed. 0: no cap. */
  maxClients?: number;
  /** Concurrent sessions from one client address; more are answered 421 and closed. 0: no cap. */
  maxClientsPerAddress?: number;
  /** New sessions a client address may open per minute; more are answered 421 and closed. 0: no cap. */
  connectionsPerMinutePerAddress?: number;
  /** A session that sends nothing for this long is answered 421 and closed. */
  idleTimeoutMs?: number;
  /** Clock of the per-minute window (tests inject one). */
  now?: () => number;
}

export const BOUNCE_MAILBOX_DEFAULTS = {
  maxMessageBytes: 10 * 1024 * 1024,
  maxClients: 50,
  maxClientsPerAddress: 10,
  connectionsPerMinutePerAddress: 300,
  idleTimeoutMs: 60_000,
} as const;

const RATE_WINDOW_MS = 60_000;

type SmtpError = Error & { responseCode?: number };

function smtpError(code: number, message: string): SmtpError {
  const err: SmtpError = new Error(message);
  err.responseCode = code;
  return err;
}

export class BounceMailbox {
  private server: SMTPServer | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly domain: string;
  /** Sessions let in (by session id), so a close gives back the address's slot once. */
  private readonly admitted = new Map<string, string>();
  private readonly openPerAddress = new Map<string, number>();
  /** Fixed one-minute windows of new sessions per address. */
  private readonly recentPerAddress = new Map<string, { start: number; count: number; logged: boolean }>();
  private lastSweep = 0;

  constructor(
    private readonly deps: InboundDeps,
    private readonly opts: BounceMailboxOptions,
  ) {
    this.domain = deps.bounceDomain.trim().replace(/\.+$/, '').toLowerCase();
  }

  async start(): Promise<{ port: number }> {
    if (this.server) throw new Error('BounceMailbox already started');
    const maxBytes = this.opts.maxMessageBytes || BOUNCE_MAILBOX_DEFAULTS.maxMessageBytes;
    const server = new SMTPServer({
      name: this.domain,
      banner: 'bounce mailbox',
      logger: false,
      disableReverseLookup: true,
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      // Advertised in EHLO: a client that declares a larger SIZE is refused at MAIL FROM.
      size: maxBytes,
      maxClients: this.opts.maxClients ?? BOUNCE_MAILBOX_DEFAULTS.maxClients,
      socketTimeout: this.opts.idleTimeoutMs || BOUNCE_MAILBOX_DEFAULTS.idleTimeoutMs,
      onConnect: (session, cb) => cb(this.admit(session)),
      onClose: (session) => this.release(session),
      onRcptTo: (address, _session, cb) => {
        const at = address.address.lastIndexOf('@');
        const domain =
          at < 0
            ? ''
            : address.address
                .slice(at + 1)
                .replace(/\.+$/, '')
                .toLowerCase();
        if (domain !== this.domain)
          return cb(
            smtpError(
              550,
              `5.7.1 <${address.address}>: relay access denied, only ${this.domain} is accepted here`,
            ),
          );
        cb();
      },
      onData: (stream, session, cb) => void this.receive(stream, session, maxBytes, cb),
    });
    server.on('error', (err: Error) => this.deps.logger?.debug({ err }, 'bounce mailbox client error'));
    server.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    const port = await new Promise<number>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(this.opts.port, this.opts.host ?? '0.0.0.0', () => {
        server.server.off('error', reject);
        const addr = server.server.address();
        if (addr === null || typeof addr === 'string')
          return reject(new Error('bounce mailbox: no TCP address'));
        resolve(addr.port);
      });
    });
    this.server = server;
    return { port };
  }

  /** Lets a new session in, or says why not (421: the client may come back later). */
  private admit(session: SMTPServerSession): SmtpError | null {
    const address = session.remoteAddress;
    const perMinute =
      this.opts.connectionsPerMinutePerAddress ?? BOUNCE_MAILBOX_DEFAULTS.connectionsPerMinutePerAddress;
    if (perMinute > 0) {
      const now = (this.opts.now ?? Date.now)();
      let window = this.recentPerAddress.get(address);
      if (!window || now - window.start >= RATE_WINDOW_MS) {
        this.forgetOldWindows(now);
        window = { start: now, count: 0, logged: false };
        this.recentPerAddress.set(address, window);
      }
      window.count++;
      if (window.count > perMinute) {
        if (!window.logged)
          this.deps.logger?.warn(
            { remoteAddress: address, perMinute },
            'bounce mailbox: connection rate limit reached, refusing this address for the rest of the minute',
          );
        window.logged = true;
        return smtpError(421, `4.7.0 too many connections from ${address}, try again later`);
      }
    }
    const perAddress = this.opts.maxClientsPerAddress ?? BOUNCE_MAILBOX_DEFAULTS.maxClientsPerAddress;
    const open = this.openPerAddress.get(address) ?? 0;
    if (perAddress > 0 && open >= perAddress)
      return smtpError(421, `4.7.0 too many open sessions from ${address}, try again later`);
    this.openPerAddress.set(address, open + 1);
    this.admitted.set(session.id, address);
    return null;
  }

  private release(session: SMTPServerSession): void {
    const address = this.admitted.get(session.id);
    if (address === undefined) return;
    this.admitted.delete(session.id);
    const open = (this.openPerAddress.get(address) ?? 1) - 1;
    if (open > 0) this.openPerAddress.set(address, open);
    else this.openPerAddress.delete(address);
  }

  /** Keeps the rate table to the addresses seen in the last two minutes (one sweep a minute). */
  private forgetOldWindows(now: number): void {
    if (now - this.lastSweep < RATE_WINDOW_MS) return;
    this.lastSweep = now;
    for (const [address, window] of this.recentPerAddress)
      if (now - window.start >= RATE_WINDOW_MS) this.recentPerAddress.delete(address);
  }

  private async receive(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    maxBytes: number,
    cb: (err?: Error | null) => void,
  ): Promise<void> {
    const chunks: Buffer[] = [];
    let held = 0;
    let tooBig = false;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        // Past the limit the rest is still read (the client hears our answer only
        // after its final dot) but dropped: a message is never held beyond the limit.
        if (tooBig) continue;
        held += chunk.length;
        if (held > maxBytes || stream.sizeExceeded) {
          tooBig = true;
          chunks.length = 0;
          continue;
        }
        chunks.push(chunk);
      }
    } catch (err) {
      return cb(smtpError(451, `4.3.0 could not read the message: ${(err as Error).message}`));
    }
    if (tooBig || stream.sizeExceeded)
      return cb(smtpError(552, `5.3.4 message too big for the bounce mailbox (limit ${maxBytes} bytes)`));
    try {
      const rcptTo = session.envelope.rcptTo.map((r) => r.address);
      const result = await processInboundReport(this.deps, Buffer.concat(chunks), { rcptTo });
      this.deps.logger?.info(
        { reportId: result.id, status: result.status, action: result.action, duplicate: result.duplicate },
        'inbound report received',
      );
      cb();
    } catch (err) {
      // Bad content is stored, never refused; only our own failures land here, and the MTA retries.
      this.deps.logger?.error({ err }, 'inbound report could not be stored');
      cb(smtpError(451, '4.3.0 temporary failure storing the report, try again later'));
    }
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Otherwise smtp-server waits up to 30 s for idle clients to hang up.
      for (const socket of this.sockets) socket.destroy();
    });
  }
}
