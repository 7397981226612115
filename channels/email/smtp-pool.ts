// Up to maxConnections SMTP connections (./smtp-connection.ts) to our relay, fed from one queue:
// a connection takes the next message whenever it can write an envelope (with PIPELINING, at the
// 354 of the message before), so messages spread over the connections that keep up. A connection
// that closes is replaced on demand. A message whose connection failed under it before its final dot
// was written, on a connection that had carried mail (the relay closed an idle session, a 421), is
// retried on a fresh connection, a bounded number of times with a growing pause; a message whose dot
// was written is never retried here (the relay may have it), it fails and the sender's rules decide.
import type { TransportError } from '../../domain/smtp-classification';
import {
  smtpError,
  SmtpConnection,
  type SmtpConnectionHost,
  type SmtpEndpoint,
  type SmtpJob,
  type SmtpJobResult,
} from './smtp-connection';

/** As nodemailer's pool (maxRequeues 5, 50 ms doubled up to 2 s). */
const MAX_REQUEUES = 5;
const REQUEUE_BASE_DELAY_MS = 50;
const REQUEUE_MAX_DELAY_MS = 2000;

export class SmtpPool implements SmtpConnectionHost {
  private readonly queue: SmtpJob[] = [];
  private readonly connections = new Set<SmtpConnection>();
  private readonly waiting = new Map<NodeJS.Timeout, { job: SmtpJob; error: TransportError }>();
  private closed = false;

  constructor(
    private readonly endpoint: SmtpEndpoint,
    private readonly maxConnections: number,
  ) {}

  send(from: string, to: string, source: Buffer): Promise<SmtpJobResult> {
    return new Promise((settle) => {
      if (this.closed) {
        settle({ ok: false, error: smtpError('Connection pool was closed', 'ECONNECTION') });
        return;
      }
      this.queue.push({ from, to, source, requeues: 0, settle });
      this.pump();
    });
  }

  take(): SmtpJob | null {
    return this.queue.shift() ?? null;
  }

  requeue(job: SmtpJob, error: TransportError): void {
    if (this.closed || job.requeues >= MAX_REQUEUES) {
      job.settle({ ok: false, error });
      return;
    }
    const delay = Math.min(REQUEUE_BASE_DELAY_MS * 2 ** job.requeues, REQUEUE_MAX_DELAY_MS);
    job.requeues++;
    const timer = setTimeout(() => {
      this.waiting.delete(timer);
      this.queue.unshift(job);
      this.pump();
    }, delay);
    this.waiting.set(timer, { job, error });
  }

  gone(connection: SmtpConnection): void {
    this.connections.delete(connection);
    // Not from inside the failing connection's own call stack.
    if (this.queue.length > 0) setImmediate(() => this.pump());
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const error = smtpError('Connection pool was closed', 'ECONNECTION');
    for (const job of this.queue.splice(0)) job.settle({ ok: false, error });
    for (const c of [...this.connections]) c.destroy(error);
    for (const [timer, w] of this.waiting) {
      clearTimeout(timer);
      w.job.settle({ ok: false, error: w.error });
    }
    this.waiting.clear();
  }

  private pump(): void {
    if (this.closed) return;
    // A pipelining connection awaiting a 354 takes the next message with that content, in the same
    // write: leave it those. The rest go to idle connections, then to ones with replies outstanding,
    // then to new connections.
    let spare = this.queue.length;
    for (const c of this.connections) if (c.takesNextWithContent) spare--;
    for (const idle of [true, false]) {
      for (const c of this.connections) {
        if (spare <= 0) return;
        if (c.canTake(idle)) {
          c.kick();
          spare--;
        }
      }
    }
    while (spare > 0 && this.queue.length > 0 && this.connections.size < this.maxConnections) {
      const first = this.queue.shift()!;
      spare--;
      this.connections.add(new SmtpConnection(this.endpoint, this, first));
    }
  }
}
