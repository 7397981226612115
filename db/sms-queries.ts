// Queries of the SMS channel (SPEC §6): preparing a run's targets, applying
// delivery receipts and closing the receipt window (submits are recorded by
// db/outcomes.ts). Set-based
// like db/run-queries; the run's counters move in the same transaction as the
// sends they count.
//
// Figures: sent_count counts messages (what progress is made of), and
// sms_parts_count the parts the SMSC accepted, which is the run's "sent"
// figure for SMS (SPEC §6 "sent = messages after splitting"). delivered and
// error counts are per message.
import type { Pool, PoolClient } from 'pg';
import { classifyReceipt, combinePartOutcomes, type ReceiptOutcome } from '../domain/smpp-status';
import { compileRule } from '../domain/rule-expr';
import { TARGET_RULES } from '../domain/target-exclusions';
import { DEFAULT_QUARANTINE_AFTER_CONSECUTIVE_ERRORS } from '../domain/validity';
import { applyPhoneStatuses } from './outcomes';
import { inTransaction } from './pool';
import { alreadySentSql, prepareTargets, type PreparedTargets } from './run-queries';

/** How receipts move a phone number's status (issue 18); defaults: Japan, the manual's 5. */
export interface PhoneStatusSettings {
  countryCallingCode: string;
  quarantineAfterErrors?: number;
}

const DEFAULT_PHONE_STATUS: PhoneStatusSettings = {
  countryCallingCode: '81',
  quarantineAfterErrors: DEFAULT_QUARANTINE_AFTER_CONSECUTIVE_ERRORS,
};

export const DEFAULT_PHONE_FIELD = 'mobile';

/**
 * A run's targets and exclusions in one statement, like prepareEmailTargets
 * (rules in domain/target-exclusions.ts). The number comes from lead.phones
 * ->> the run's phone field; duplicates are the same number once normalized
 * with `countryCallingCode`, and the number's address status is found by that
 * same normalized form (blocklisted and quarantined numbers are excluded).
 */
export function prepareSmsTargets(
  pool: Pool,
  runId: number,
  countryCallingCode: string,
  quarantineAfterErrors: number = DEFAULT_QUARANTINE_AFTER_CONSECUTIVE_ERRORS,
): Promise<PreparedTargets> {
  const rules = TARGET_RULES.sms;
  const phone = 'l.phones ->> $5::text';
  const key = compileRule(rules.dedupeKey, {
    address: compileRule(rules.address, { phone }),
    countryCallingCode: '$6::text',
  });
  // $5 phone field, $6 calling code, $7 quarantine threshold.
  return prepareTargets(pool, runId, {
    channel: 'sms',
    extraParams: (run) => [run.phone_field ?? DEFAULT_PHONE_FIELD, countryCallingCode, quarantineAfterErrors],
    from: `lead l LEFT JOIN address_status a ON a.channel = 'sms' AND a.address = ${key}`,
    bindings: {
      addressStatus: 'a.status',
      addressErrorCount: 'a.error_count',
      addressErrorType: 'a.error_type',
      addressErrorReason: 'a.reason',
      quarantineThreshold: '$7::int',
      phone: 'l.phones ->> $5::text',
      countryCallingCode: '$6::text',
      unsubscribed: 'l.unsubscribed_sms_at IS NOT NULL',
      smsPermission: 'l.sms_permission',
      permissionFilter: '$4::boolean',
      includeAlreadySent: '$3::boolean',
      sentThisTemplateBefore: alreadySentSql('l.id'),
    },
  });
}

export interface IncomingReceipt {
  messageId: string;
  stat: string;
  err: string;
  receivedAt: Date;
}

/**
 * Store receipts on the parts they are for and settle the sends whose parts
 * all have an answer. A receipt names its part by SMSC message id; ids can be
 * reused over time, so it goes to the newest part still awaiting one under
 * that id. Returns the receipts that matched no waiting part (their submit may
 * not be recorded yet: the caller tries them again a little later).
 */
export async function applySmsReceipts(
  pool: Pool,
  receipts: readonly IncomingReceipt[],
  phoneStatus: PhoneStatusSettings = DEFAULT_PHONE_STATUS,
): Promise<IncomingReceipt[]> {
  if (receipts.length === 0) return [];
  return inTransaction(pool, async (client) => {
    const res = await client.query<{ message_id: string; send_id: string }>(
      `WITH v AS (
         SELECT DISTINCT ON (message_id) * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
                AS v(message_id, stat, err, at)
          ORDER BY message_id, at DESC
       ), target AS (
         SELECT DISTINCT ON (p.message_id) p.send_id, p.seq, v.message_id, v.stat, v.err, v.at
           FROM v JOIN sms_part p ON p.message_id = v.message_id
                 AND (p.stat IS NULL OR upper(p.stat) IN ('ENROUTE', 'ACCEPTD', 'ACCEPTED'))
           JOIN send s ON s.id = p.send_id AND s.result = 'sent'
          ORDER BY p.message_id, p.submitted_at DESC, p.send_id DESC
       )
       UPDATE sms_part p SET stat = t.stat, err = t.err, receipt_at = t.at
         FROM target t WHERE p.send_id = t.send_id AND p.seq = t.seq
       RETURNING t.message_id, p.send_id`,
      [
        receipts.map((r) => r.messageId),
        receipts.map((r) => r.stat),
        receipts.map((r) => r.err),
        receipts.map((r) => r.receivedAt.toISOString()),
      ],
    );
    const matched = new Set(res.rows.map((r) => r.message_id));
    await settleSends(client, [...new Set(res.rows.map((r) => r.send_id))], false, phoneStatus);
    return receipts.filter((r) => !matched.has(r.messageId));
  });
}

/**
 * Close the receipt window of SMS sends submitted more than `timeoutSeconds`
 * ago and still awaiting a receipt: a message with no answer at all is "the
 * result could not be confirmed"; a split one with some parts answered is
 * judged on them (domain combinePartOutcomes). Returns how many were settled.
 */
export async function expireSmsReceipts(
  pool: Pool,
  timeoutSeconds: number,
  limit = 500,
  phoneStatus: PhoneStatusSettings = DEFAULT_PHONE_STATUS,
): Promise<number> {
  return inTransaction(pool, async (client) => {
    // The queue of sends awaiting a receipt (sms_receipt_wait, written when an SMS is recorded as
    // sent): an index on the send row's sent_at and result would keep every outcome's update of a
    // send from being HOT (migration 20261206200000).
    const due = await client.query<{ id: string }>(
      `SELECT send_id AS id FROM sms_receipt_wait
        WHERE sent_at < now() - $1 * interval '1 second'
        ORDER BY sent_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [timeoutSeconds, limit],
    );
    const ids = due.rows.map((r) => r.id);
    if (ids.length === 0) return 0;
    const settled = await settleSends(client, ids, true, phoneStatus);
    // A send that left 'sent' some other way leaves the queue too.
    await client.query(
      `DELETE FROM sms_receipt_wait w WHERE w.send_id = ANY($1::bigint[])
          AND NOT EXISTS (SELECT 1 FROM send s WHERE s.id = w.send_id AND s.result = 'sent')`,
      [ids],
    );
    return settled;
  });
}

/**
 * Settle sends awaiting receipts from their parts' receipts; moves the runs'
 * counters with them, and the numbers' statuses (a delivery clears, errors count).
 */
async function settleSends(
  client: PoolClient,
  sendIds: readonly string[],
  windowClosed: boolean,
  phoneStatus: PhoneStatusSettings,
): Promise<number> {
  if (sendIds.length === 0) return 0;
  const rows = await client.query<{
    id: string;
    address: string;
    attempts: number;
    segments: number | null;
    stats: Array<string | null>;
    errs: Array<string | null>;
  }>(
    `SELECT s.id, s.address, s.attempts - s.resends AS attempts, s.sms_segments AS segments,
            coalesce(array_agg(p.stat ORDER BY p.seq) FILTER (WHERE p.seq IS NOT NULL), '{}') AS stats,
            coalesce(array_agg(p.err ORDER BY p.seq) FILTER (WHERE p.seq IS NOT NULL), '{}') AS errs
       FROM send s LEFT JOIN sms_part p ON p.send_id = s.id
      WHERE s.id = ANY($1::bigint[]) AND s.result = 'sent'
      GROUP BY s.id ORDER BY s.id`,
    [sendIds],
  );
  const settled: Array<{
    id: string;
    address: string;
    attempt: number;
    outcome: Exclude<ReceiptOutcome, { result: 'pending' }>;
  }> = [];
  for (const r of rows.rows) {
    const parts: Array<ReceiptOutcome | null> = r.stats.map((stat, i) => {
      if (stat === null) return null;
      const outcome = classifyReceipt(stat, r.errs[i] ?? '');
      return outcome.result === 'pending' ? null : outcome;
    });
    // Parts never accepted have no row; a send waiting on receipts has all its parts.
    while (parts.length < (r.segments ?? 1)) parts.push(null);
    const outcome = combinePartOutcomes(parts, windowClosed);
    if (outcome.result !== 'pending')
      settled.push({ id: r.id, address: r.address, attempt: r.attempts, outcome });
  }
  if (settled.length === 0) return 0;
  const col = <T>(f: (s: (typeof settled)[number]) => T) => settled.map(f);
  // `result = 'sent'` is checked again under the row lock: of two settlers
  // racing (a receipt and the timeout sweep), only one changes and counts it.
  const changed = await client.query<{ id: string }>(
    `WITH v AS (
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) AS v(id, result, detail, error_type, error_reason)
     ), changed AS (
       UPDATE send s
          SET result = v.result, detail = v.detail, error_type = v.error_type, error_reason = v.error_reason,
              delivered_at = CASE WHEN v.result = 'delivered' THEN now() END, updated_at = now()
         FROM v WHERE s.id = v.id AND s.result = 'sent'
       RETURNING s.id, s.run_id, s.result
     ), unqueued AS (
       DELETE FROM sms_receipt_wait w USING changed c WHERE w.send_id = c.id
     ), per_run AS (
       SELECT run_id, count(*) FILTER (WHERE result = 'delivered')::int AS delivered,
              count(*) FILTER (WHERE result = 'error')::int AS errors
         FROM changed WHERE run_id IS NOT NULL GROUP BY run_id
     ), runs AS (
       UPDATE wizard_run w SET delivered_count = w.delivered_count + r.delivered, error_count = w.error_count + r.errors, updated_at = now()
         FROM per_run r WHERE w.id = r.run_id
     )
     SELECT id FROM changed`,
    [
      col((s) => s.id),
      col((s) => s.outcome.result),
      col((s) => s.outcome.detail),
      col((s) => (s.outcome.result === 'error' ? s.outcome.errorType : null)),
      col((s) => (s.outcome.result === 'error' ? s.outcome.reason : null)),
    ],
  );
  // Only the sends this settler changed (a racing one counts the others).
  const mine = new Set(changed.rows.map((r) => String(r.id)));
  await applyPhoneStatuses(
    client,
    settled
      .filter((s) => mine.has(s.id))
      .map((s) => ({
        address: s.address,
        attempt: s.attempt,
        at: new Date(),
        outcome: {
          result: s.outcome.result,
          errorType: s.outcome.result === 'error' ? s.outcome.errorType : null,
          reason: s.outcome.result === 'error' ? s.outcome.reason : null,
        },
      })),
    phoneStatus,
  );
  return settled.length;
}
