// Replies to our SMS (mobile-originated messages) heard by the worker's SMS transport:
// each is read for an opt-out keyword (domain/sms-replies.ts) and recorded, an opt-out
// unsubscribing the number's leads from SMS bulk sends (db/sms-reply-queries.ts).
//
// A long reply comes as several parts with a concatenation UDH (same reference, total and a
// sequence number each): the parts are joined in sequence order before the keywords are read,
// so "ST" + "OP" is STOP. Parts whose siblings never come are recorded as they are, joined, after
// `partsWaitMs`, so nothing a handset sent is lost.
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
  /** How long the parts of a concatenated reply wait for the rest (default 10 minutes). */
  partsWaitMs?: number;
}

const RETRY_MS = 1_000;
const PARTS_WAIT_MS = 10 * 60_000;

interface PendingParts {
  parts: Map<number, SmsReply>;
  total: number;
  timer: NodeJS.Timeout;
}

/** The parts joined in sequence order, as one reply received when its last part was. */
function joinParts(parts: Iterable<SmsReply>): SmsReply {
  const ordered = [...parts].sort((a, b) => (a.concat?.seq ?? 0) - (b.concat?.seq ?? 0));
  const last = ordered.reduce((a, b) => (b.receivedAt > a.receivedAt ? b : a));
  return { ...last, text: ordered.map((p) => p.text).join(''), concat: null };
}

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

  const pending = new Map<string, PendingParts>();
  const complete = (key: string): void => {
    const p = pending.get(key);
    if (!p) return;
    clearTimeout(p.timer);
    pending.delete(key);
    if (!stopped) queue.push(joinParts(p.parts.values()));
    kick();
  };

  const unsubscribe = sms.onReply((reply) => {
    const c = reply.concat;
    if (!c || c.total <= 1) {
      queue.push(reply);
      kick();
      return;
    }
    const key = `${reply.from}\u0000${reply.to}\u0000${c.ref}\u0000${c.total}`;
    let p = pending.get(key);
    if (!p) {
      const timer = setTimeout(() => {
        logger.warn({ handset: reply.from, ref: c.ref }, 'sms reply parts incomplete; recording what came');
        complete(key);
      }, opts.partsWaitMs ?? PARTS_WAIT_MS);
      timer.unref();
      p = { parts: new Map(), total: c.total, timer };
      pending.set(key, p);
    }
    p.parts.set(c.seq, reply);
    if (p.parts.size >= p.total) complete(key);
  });

  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      if (retryTimer) clearTimeout(retryTimer);
      for (const p of pending.values()) clearTimeout(p.timer);
      if (pending.size > 0) logger.warn({ lost: pending.size }, 'incomplete sms reply parts at shutdown');
      await draining;
      if (queue.length > 0) logger.warn({ lost: queue.length }, 'sms replies not recorded at shutdown');
    },
  };
}
