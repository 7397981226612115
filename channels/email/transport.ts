// The email transport: nodemailer's pooled SMTP connections carry messages
// composed by ./mime.ts. It sends
// one message and returns a classified outcome; it decides no policy (retries,
// validity) — that is domain/ and the workflow's business.
import { Readable } from 'node:stream';
import SMTPPool from 'nodemailer/lib/smtp-pool';
import { composeMessage } from './mime';
import type { MessageSigner } from './dkim';
import {
  classifyAcceptedMessage,
  classifyTransportError,
  type SmtpOutcome,
  type TransportError,
} from '../../domain/smtp-classification';

export interface EmailMessage {
  from: string;
  to: string;
  subject: string;
  text?: string;
  html?: string;
  replyTo?: string;
  /** SMTP envelope sender: the VERP return path for bulk mail. */
  envelopeFrom: string;
  /** Full Message-ID including angle brackets. */
  messageId: string;
  headers?: Record<string, string>;
}

export interface EmailSendResult {
  outcome: SmtpOutcome;
  messageId: string | null;
  /** The server's final reply text, when it gave one. */
  response: string | null;
}

export interface EmailTransportOptions {
  url: string;
  maxConnections: number;
  maxMessages: number;
  /** Socket-level timeouts; a stalled relay must not hold a batch forever. */
  connectionTimeoutMs?: number;
  socketTimeoutMs?: number;
}

export interface EmailTransport {
  send(message: EmailMessage): Promise<EmailSendResult>;
  /** DKIM-sign every message from now on (the worker sets it: channels/email/dkim.ts). */
  useSigner(signer: MessageSigner | null): void;
  close(): void;
}

export function createEmailTransport(opts: EmailTransportOptions): EmailTransport {
  const url = new URL(opts.url);
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new Error(`SMTP_URL must be smtp:// or smtps://, got ${url.protocol}`);
  }
  // nodemailer's SMTP pool (connections, STARTTLS, AUTH, requeue on a closed
  // idle connection, RSET after a refusal), driven without its Mailer layer:
  // our source is already composed, and the Mailer's per-message MIME tree
  // was a fifth of the worker's CPU even for raw messages.
  const pool = new SMTPPool({
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 25)),
    secure: url.protocol === 'smtps:',
    auth: url.username
      ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) }
      : undefined,
    maxConnections: opts.maxConnections,
    maxMessages: opts.maxMessages,
    connectionTimeout: opts.connectionTimeoutMs ?? 30_000,
    greetingTimeout: opts.connectionTimeoutMs ?? 30_000,
    socketTimeout: opts.socketTimeoutMs ?? 120_000,
    // Local relays and sinks often offer no TLS; STARTTLS is used when offered.
    ignoreTLS: url.searchParams.get('tls') === 'off',
    tls: { rejectUnauthorized: url.searchParams.get('tls') !== 'insecure' },
  });

  let signer: MessageSigner | null = null;
  return {
    useSigner(s) {
      signer = s;
    },
    async send(message) {
      // Signed as composed, before the pool sees it; a signing failure (keys unreadable) fails the
      // attempt as ours, never as the recipient's.
      const composed = composeMessage(message);
      const source = signer ? await signer.sign(composed, message.from) : composed;
      try {
        const info = await submit(pool, message, source);
        // One recipient per message: a rejection of it arrives as EENVELOPE, so
        // reaching here means the receiving server accepted the message.
        return {
          outcome: classifyAcceptedMessage(),
          messageId: message.messageId,
          response: typeof info.response === 'string' ? info.response : null,
        };
      } catch (err) {
        const e = err as TransportError & { rejectedErrors?: TransportError[] };
        const first = e.rejectedErrors?.[0];
        const source: TransportError = first ? { ...first, code: e.code ?? first.code } : e;
        return {
          outcome: classifyTransportError(source),
          messageId: null,
          response: typeof source.response === 'string' ? source.response : (source.message ?? null),
        };
      }
    },
    close() {
      pool.close();
    },
  };
}

/**
 * Queue one composed message on the pool. What the pool reads of a queued
 * message (nodemailer's transport contract, pinned with the package version):
 * its envelope, its Message-ID, and a fresh stream of its source per attempt
 * (a message requeued after a closed connection is read again).
 */
function submit(pool: SMTPPool, message: EmailMessage, source: Buffer): Promise<SMTPPool.SentMessageInfo> {
  const envelope = { from: message.envelopeFrom, to: [message.to] };
  const queued = {
    data: {},
    message: {
      getEnvelope: () => envelope,
      messageId: () => message.messageId,
      getHeader: (name: string) => (name.toLowerCase() === 'message-id' ? message.messageId : undefined),
      createReadStream: () => Readable.from([source], { objectMode: false }),
    },
  };
  return new Promise((resolve, reject) =>
    pool.send(queued as never, (err, info) =>
      err ? reject(err) : resolve(info as SMTPPool.SentMessageInfo),
    ),
  );
}
