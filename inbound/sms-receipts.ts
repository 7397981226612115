// Delivery receipts of the worker's SMS transport applied to the sends, and
// the sweep that closes the receipt window (SMS_RECEIPT_TIMEOUT_SECONDS).
//
// Receipts are gathered for a moment and applied in one transaction per
// tick. One can arrive before its submit is recorded (the SMSC answers in
// milliseconds, sends are recorded in chunks), so a receipt that matches no
// waiting part is tried again for a while. The transport acknowledges a
// receipt once the listener returns; a worker that dies with receipts still
// gathered loses them, and the sweep reports those sends as "the result could
// not be confirmed" (REFERENCE: unknown is reconciled, never guessed).
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { SmsTransport } from '../channels/sms/transport';
import {
  applySmsReceipts,
  expireSmsReceipts,
  type IncomingReceipt,
  type PhoneStatusSettings,
} from '../db/sms-queries';

export interface SmsReceiptProcessingOptions {
  pool: Pool;
  sms: SmsTransport;
  logger: Logger;
  receiptTimeoutSeconds: number;
  /** How often gathered receipts are applied. Default 250 ms. */
  applyEveryMs?: number;
  /** How long an unmatched receipt is tried again. Default 5 minutes. */
  unmatchedRetentionMs?: number;
  /** How receipts move the numbers' statuses (issue 18); default Japan and the manual's 5. */
  phoneStatus?: PhoneStatusSettings;
}

interface Queued extends IncomingReceipt {
  firstSeenMs: number;
  notBeforeMs: number;
}

const UNMATCHED_RETRY_MS = 1_000;

export function startSmsReceiptProcessing(opts: SmsReceiptProcessingOptions): { stop(): Promise<void> } {
  const { pool, sms, logger } = opts;
  const applyEveryMs = opts.applyEveryMs ?? 250;
  const retentionMs = opts.unmatchedRetentionMs ?? 5 * 60_000;
  // Half the timeout, so a send is settled at most 1.5 timeouts after its submit.
  const sweepEveryMs = Math.min(Math.max(500, (opts.receiptTimeoutSeconds * 1000) / 2), 30_000);
  let queue: Queued[] = [];
  let stopped = false;
  let applying: Promise<void> = Promise.resolve();
  let sweeping: Promise<void> = Promise.resolve();

  const unsubscribe = sms.onReceipt((r) => {
    // ENROUTE / ACCEPTD say nothing final; the final receipt follows.
    if (r.outcome.result === 'pending') return;
    const now = Date.now();
    queue.push({
      messageId: r.messageId,
      stat: r.stat,
      err: r.err,
      receivedAt: new Date(now),
      firstSeenMs: now,
      notBeforeMs: now,
    });
  });

  async function applyDue(): Promise<void> {
    const now = Date.now();
    const due = queue.filter((q) => q.notBeforeMs <= now);
    if (due.length === 0) return;
    queue = queue.filter((q) => q.notBeforeMs > now);
    try {
      const unmatched = new Set(await applySmsReceipts(pool, due, opts.phoneStatus));
      for (const q of due) {
        if (!unmatched.has(q)) continue;
        if (now - q.firstSeenMs < retentionMs) queue.push({ ...q, notBeforeMs: now + UNMATCHED_RETRY_MS });
        else
          logger.warn(
            { messageId: q.messageId, stat: q.stat },
            'sms receipt matches no submitted message; dropped',
          );
      }
    } catch (err) {
      logger.error({ err, receipts: due.length }, 'sms receipts could not be applied; trying again');
      queue.push(...due.map((q) => ({ ...q, notBeforeMs: now + UNMATCHED_RETRY_MS })));
    }
  }

  async function sweep(): Promise<void> {
    try {
      let settled = 0;
      do settled = await expireSmsReceipts(pool, opts.receiptTimeoutSeconds, 500, opts.phoneStatus);
      while (settled >= 500 && !stopped);
    } catch (err) {
      logger.error({ err }, 'sms receipt timeout sweep failed');
    }
  }

  const applyTimer = setInterval(() => {
    applying = applying.then(applyDue);
  }, applyEveryMs);
  const sweepTimer = setInterval(() => {
    sweeping = sweeping.then(sweep);
  }, sweepEveryMs);

  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      clearInterval(applyTimer);
      clearInterval(sweepTimer);
      await applying;
      await sweeping;
    },
  };
}
