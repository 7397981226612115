// Replies to our SMS (mobile-originated messages) heard by the worker's SMS transport:
// each is read for an opt-out keyword (domain/sms-replies.ts) and recorded, an opt-out
// unsubscribing the number's leads from SMS bulk sends (db/sms-reply-queries.ts).
//
// Replies are recorded one after another in arrival order. The transport acknowledges a
// reply once the listener returns, so a reply that cannot be recorded yet (database down)
// is kept and tried again; a worker that dies meanwhile loses it, as with receipts.
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { SmsReply, SmsTransport } from '../channels/sms/transport';
import { recordSmsReply, type SmsReplyRecord } from '../db/sms-reply-queries';
import { readSmsReply } from '../domain/sms-replies';

export interface SmsReplyProcessingOptions {
  pool: Pool;
  sms: SmsTransport;
  logger: Logger;
  /** Opt-out keywords (config SMS_OPT_OUT_KEYWORDS). */
  keywords: readonly string[];
  /** Region of lead phone numbers written without a country code. */
  defaultRegion: string;
  /** Called once a reply is recorded (tests, metrics). */
  onRecorded?: (record: SmsReplyRecord) => void;
}

const RETRY_MS = 1_000;

export function startSmsReplyProcessing(opts: SmsReplyProcessingOptions): { stop(): Promise<void> } {
  const { pool, sms, logger } = opts;
  const queue: SmsReply[] = [];
  let draining: Promise<void> | null = null;
  let retryTimer: NodeJS.Timeout | null = null;
  let stopped = false;

  async function drain(): Promise<void> {
    while (queue.length > 0 && !stopped) {
      const reply = queue[0]!;
      const reading = readSmsReply(reply.text, opts.keywords);
      try {
        const record = await recordSmsReply(
          pool,
          {
            handset: reply.from,
            recipient: reply.to,
            text: reply.text,
            dataCoding: reply.dataCoding,
            receivedAt: reply.receivedAt,
            kind: reading.kind,
            keyword: reading.keyword,
          },
          opts.defaultRegion,
        );
        queue.shift();
        logger.info(
          { replyId: record.id, kind: record.kind, keyword: record.keyword, leads: record.leadIds },
          record.kind === 'opt_out' ? 'sms reply opted out' : 'sms reply recorded',
        );
        opts.onRecorded?.(record);
      } catch (err) {
        logger.error({ err, waiting: queue.length }, 'sms reply could not be recorded; trying again');
        retryTimer = setTimeout(() => {
          retryTimer = null;
          kick();
        }, RETRY_MS);
        return;
      }
    }
  }

  function kick(): void {
    if (draining || stopped || retryTimer) return;
    draining = drain().finally(() => {
      draining = null;
      if (queue.length > 0 && !retryTimer && !stopped) kick();
    });
  }

  const unsubscribe = sms.onReply((reply) => {
    queue.push(reply);
    kick();
  });

  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      if (retryTimer) clearTimeout(retryTimer);
      await draining;
      if (queue.length > 0) logger.warn({ lost: queue.length }, 'sms replies not recorded at shutdown');
    },
  };
}
