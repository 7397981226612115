// The bounce mailbox: an SMTP listener for the VERP bounce domain. Receiving
// MTAs (or our relay) deliver DSNs and feedback reports to b+TOKEN@domain;
// each message goes through the inbound report pipeline. Mail for any other
// domain is refused (550), so this is never an open relay.
import type { Socket } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { processInboundReport, type InboundDeps } from '../inbound/process-report';

export interface BounceMailboxOptions {
  port: number;
  host?: string;
  /** Largest accepted message; DSNs that return the whole original can be big. */
  maxMessageBytes?: number;
}

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

  constructor(
    private readonly deps: InboundDeps,
    private readonly opts: BounceMailboxOptions,
  ) {
    this.domain = deps.bounceDomain.trim().replace(/\.+$/, '').toLowerCase();
  }

  async start(): Promise<{ port: number }> {
    if (this.server) throw new Error('BounceMailbox already started');
    const maxBytes = this.opts.maxMessageBytes ?? 10 * 1024 * 1024;
    const server = new SMTPServer({
      name: this.domain,
      banner: 'bounce mailbox',
      logger: false,
      disableReverseLookup: true,
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      size: maxBytes,
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
      onData: (stream, session, cb) => void this.receive(stream, session, cb),
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

  private async receive(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    cb: (err?: Error | null) => void,
  ): Promise<void> {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of stream) chunks.push(chunk as Buffer);
    } catch (err) {
      return cb(smtpError(451, `4.3.0 could not read the message: ${(err as Error).message}`));
    }
    if (stream.sizeExceeded) return cb(smtpError(552, '5.3.4 message too big for the bounce mailbox'));
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
