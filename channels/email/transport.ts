// The email transport: our pooled, pipelining SMTP connections (./smtp-pool.ts) carry messages
// composed by ./mime.ts. It sends
// one message and returns a classified outcome; it decides no policy (retries,
// validity) — that is domain/ and the workflow's business.
import { composeMessage } from './mime';
import { smtpError } from './smtp-connection';
import { SmtpPool } from './smtp-pool';
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
  // Our own pipelining SMTP client (./smtp-pool.ts, ./smtp-connection.ts): a message's content, its
  // final dot and the next message's envelope leave in one write.
  const pool = new SmtpPool(
    {
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 25)),
      secure: url.protocol === 'smtps:',
      // Local relays and sinks often offer no TLS; STARTTLS is used when offered.
      startTls: url.searchParams.get('tls') !== 'off',
      rejectUnauthorized: url.searchParams.get('tls') !== 'insecure',
      user: url.username ? decodeURIComponent(url.username) : undefined,
      pass: url.username ? decodeURIComponent(url.password) : undefined,
      connectionTimeoutMs: opts.connectionTimeoutMs ?? 30_000,
      socketTimeoutMs: opts.socketTimeoutMs ?? 120_000,
      maxMessages: opts.maxMessages,
    },
    opts.maxConnections,
  );

  let signer: MessageSigner | null = null;
  return {
    useSigner(s) {
      signer = s;
    },
    async send(message) {
      const refused = envelopeError(message);
      if (refused) return failed(refused);
      // Signed as composed, before the pool sees it; a signing failure (keys unreadable) fails the
      // attempt as ours, never as the recipient's.
      const composed = composeMessage(message);
      const source = signer ? await signer.sign(composed, message.from) : composed;
      const result = await pool.send(message.envelopeFrom.trim(), message.to.trim(), source);
      // One recipient per message: a refusal of it is an error, so success means the receiving
      // server accepted the message.
      if (result.ok) {
        return {
          outcome: classifyAcceptedMessage(),
          messageId: message.messageId,
          response: result.response,
        };
      }
      return failed(result.error);
    },
    close() {
      pool.close();
    },
  };
}

function failed(error: TransportError): EmailSendResult {
  return {
    outcome: classifyTransportError(error),
    messageId: null,
    response: typeof error.response === 'string' ? error.response : (error.message ?? null),
  };
}

/**
 * The envelope checks nodemailer made before talking to anyone (same codes and texts), and a NUL
 * byte, which no SMTP command line may carry (RFC 5321 §4.1: a server may cut the line there).
 */
// eslint-disable-next-line no-control-regex
const ENVELOPE_BREAKERS = /[\r\n<>\x00]/;

function envelopeError(message: EmailMessage): TransportError | null {
  const from = message.envelopeFrom.trim();
  const to = message.to.trim();
  if (!to) return smtpError('No recipients defined', 'EENVELOPE', null, 'API');
  if (ENVELOPE_BREAKERS.test(from))
    return smtpError(`Invalid sender ${JSON.stringify(from)}`, 'EENVELOPE', null, 'API');
  if (ENVELOPE_BREAKERS.test(to))
    return smtpError(`Invalid recipient ${JSON.stringify(to)}`, 'EENVELOPE', null, 'API');
  return null;
}
