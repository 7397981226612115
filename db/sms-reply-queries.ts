// Replies to our SMS (issue 21 §7): each kept in sms_reply with the leads whose number
// sent it; an opt-out also sets those leads' unsubscribed_sms_at (the SMS exclusion
// "unsubscribed", domain/target-exclusions.ts), in the same transaction.
import type { Pool } from 'pg';
import { checkMobileNumber } from '../domain/phone';
import type { SmsReplyKind } from '../domain/sms-replies';
import { inTransaction } from './pool';

export interface SmsReplyInput {
  /** The handset's number as the SMSC gives it (international digits). */
  handset: string;
  /** Our number or sender id it was sent to. */
  recipient: string;
  text: string;
  dataCoding: number;
  receivedAt: Date;
  kind: SmsReplyKind;
  keyword: string;
}

export interface SmsReplyRecord extends SmsReplyInput {
  id: string;
  leadIds: number[];
}

interface ReplyRow {
  id: string;
  handset: string;
  recipient: string;
  text: string;
  data_coding: number;
  kind: SmsReplyKind;
  keyword: string;
  lead_ids: number[];
  received_at: Date;
}

const toRecord = (r: ReplyRow): SmsReplyRecord => ({
  id: r.id,
  handset: r.handset,
  recipient: r.recipient,
  text: r.text,
  dataCoding: r.data_coding,
  kind: r.kind,
  keyword: r.keyword,
  leadIds: r.lead_ids,
  receivedAt: r.received_at,
});

/**
 * Records the reply and, for an opt-out, unsubscribes from SMS every lead with a phone
 * number (any field) that is the handset once normalized in `defaultRegion`. A lead
 * already unsubscribed keeps its first time.
 */
export function recordSmsReply(
  pool: Pool,
  reply: SmsReplyInput,
  defaultRegion: string,
): Promise<SmsReplyRecord> {
  return inTransaction(pool, async (client) => {
    const digits = reply.handset.replace(/\D/g, '');
    // Narrowed by the last eight digits in SQL (any numbering plan keeps them), then
    // confirmed by the same normalization the sends use.
    const candidates = await client.query<{ id: number; phones: Record<string, string> }>(
      `SELECT l.id, l.phones FROM lead l
        WHERE l.deleted_at IS NULL
          AND EXISTS (SELECT 1 FROM jsonb_each_text(l.phones) p
                       WHERE right(regexp_replace(p.value, '\\D', '', 'g'), 8) = right($1::text, 8))
        ORDER BY l.id`,
      [digits],
    );
    const leadIds = candidates.rows
      .filter((l) =>
        Object.values(l.phones).some((phone) => {
          const check = checkMobileNumber(phone, defaultRegion);
          return check.ok && check.smppAddress === digits;
        }),
      )
      .map((l) => l.id);
    if (reply.kind === 'opt_out' && leadIds.length > 0) {
      await client.query(
        `UPDATE lead SET unsubscribed_sms_at = coalesce(unsubscribed_sms_at, $2), updated_at = now()
          WHERE id = ANY($1::int[])`,
        [leadIds, reply.receivedAt],
      );
    }
    const inserted = await client.query<ReplyRow>(
      `INSERT INTO sms_reply (handset, recipient, text, data_coding, kind, keyword, lead_ids, received_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7::int[], $8)
       RETURNING id, handset, recipient, text, data_coding, kind, keyword, lead_ids, received_at`,
      [
        digits,
        reply.recipient,
        reply.text,
        reply.dataCoding,
        reply.kind,
        reply.keyword,
        leadIds,
        reply.receivedAt,
      ],
    );
    return toRecord(inserted.rows[0]!);
  });
}

export interface SmsReplyFilter {
  kind?: SmsReplyKind;
  leadId?: number;
  handset?: string;
  /** Only replies recorded before this one (the previous page's last id). */
  beforeId?: string;
  /** Newest first; at most this many. */
  limit: number;
}

export async function listSmsReplies(pool: Pool, filter: SmsReplyFilter): Promise<SmsReplyRecord[]> {
  const res = await pool.query<ReplyRow>(
    `SELECT id, handset, recipient, text, data_coding, kind, keyword, lead_ids, received_at
       FROM sms_reply
      WHERE ($1::text IS NULL OR kind = $1)
        AND ($2::int IS NULL OR lead_ids @> ARRAY[$2::int])
        AND ($3::text IS NULL OR handset = $3)
        AND ($4::bigint IS NULL OR id < $4::bigint)
      ORDER BY id DESC
      LIMIT $5`,
    [
      filter.kind ?? null,
      filter.leadId ?? null,
      filter.handset ?? null,
      filter.beforeId ?? null,
      filter.limit,
    ],
  );
  return res.rows.map(toRecord);
}
