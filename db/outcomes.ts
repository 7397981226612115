// Recording what a send attempt came to, for every channel: the sends, their
// attempt rows, SMS parts, email validity and the run's counters, in one
// transaction, so the run's counters always equal what the records say.
// A channel's differences are data (RecordingRules) and the record's `extra`.
import {
  ADDRESS_STATUS_RULES,
  LEAD_VALIDITY_RULES,
  STATUSES_CLEARED_BY_DELIVERY,
  phoneEvidence,
  validityEvidence,
  validityThresholds,
  type ValidityThresholds,
} from '../domain/validity';
import { normalizeAddress } from '../domain/address-status';
import { compileRule, evaluateRule } from '../domain/rule-expr';
import type { Pool, PoolClient } from 'pg';
import type { DeliveryOutcome } from '../domain/delivery-outcome';
import { inTransaction, type Queryable } from './pool';
import {
  applyAddressStatuses,
  applyValidity,
  CLEAR_BY_DELIVERY_SET,
  CLEAR_BY_DELIVERY_WHERE,
  foldRunCounters,
} from './run-queries';

export { foldRunCounters };

export interface OutcomeRecord {
  sendId: string;
  leadId: number;
  address: string;
  /** The retry wave (1: the first send): what counters, validity and schedules go by. */
  attempt: number;
  /** The attempt row's number: transmissions of this send so far (default: the wave). */
  transmission?: number;
  /** A resend of a message that may have gone out before (README: what can be sent twice). */
  resend?: { reason: string; originalMessageId: string | null } | null;
  at: Date;
  outcome: DeliveryOutcome;
  /** The provider's id of the message (email Message-ID, first SMS part's SMSC id, LINE message or request id). */
  messageId: string | null;
  /** When the next retry wave may send it again; null = final. */
  nextAttemptAt: Date | null;
  /** What the send row keeps besides the outcome on some channels. */
  extra?: {
    /** SMS: the text as it went out, and its segments. */
    body?: string | null;
    segments?: number | null;
    /** SMS: accepted parts' SMSC ids by part number (1-based). */
    partIds?: ReadonlyArray<{ seq: number; messageId: string }>;
    /** LINE: the official account that pushed it. */
    lineAccountName?: string;
  };
}

/** How a channel's outcomes are recorded. */
export interface RecordingRules {
  /**
   * What a send the provider accepted is recorded as: email 'delivered' (an SMTP acceptance is
   * SPEC's delivery; bounces come later as reports); SMS 'sent' until its receipt; LINE 'sent'
   * for good (LINE never confirms delivery).
   */
  acceptedAs: 'delivered' | 'sent';
  /** Email: outcomes move the lead's validity and the address's status (SPEC 4). null: they never do. */
  validity: ValidityThresholds | null;
  /**
   * SMS: outcomes move the phone number's address status (issue 18: numbers
   * are quarantined like email addresses); numbers are stored in international
   * digits, a national one read in the country of `countryCallingCode`.
   */
  phoneStatus?: { quarantineAfterErrors?: number; countryCallingCode: string } | null;
  /**
   * Only sends still pending change, and only they count: a chunk recorded twice (a retried
   * activity) counts once. Off where a retry wave records over an earlier error (email).
   */
  pendingOnly: boolean;
  /** A pre-error gets the attempt's time as its sent_at too (email); otherwise it stays unsent. */
  stampPreErrors: boolean;
  /**
   * SMS: a send recorded as sent awaits its receipt, queued in sms_receipt_wait for the timeout
   * sweep (db/sms-queries.ts expireSmsReceipts) until it settles.
   */
  awaitsReceipt?: boolean;
}

export interface RecordedCounts {
  sent: number;
  delivered: number;
  errors: number;
  preErrors: number;
}

export const NO_COUNTS: Readonly<RecordedCounts> = { sent: 0, delivered: 0, errors: 0, preErrors: 0 };

type Recorded = Pick<OutcomeRecord, 'attempt'> & { result: string };

/** Counter deltas of a chunk: a first attempt adds a sent message; a retry replaces an error already counted. */
export function countDeltas(records: readonly Recorded[]): RecordedCounts {
  const c: RecordedCounts = { ...NO_COUNTS };
  for (const r of records) {
    if (r.result === 'pre_error') {
      c.preErrors++;
      continue;
    }
    if (r.attempt <= 1) c.sent++;
    else c.errors--;
    if (r.result === 'delivered') c.delivered++;
    else if (r.result === 'error') c.errors++;
  }
  return c;
}

/**
 * What recordOutcomes adds to the counts for these records where that follows from the records
 * alone (rules that do not count pending sends only): a share of a chunk written with others.
 */
export function recordedCounts(records: readonly OutcomeRecord[], rules: RecordingRules): RecordedCounts {
  if (rules.pendingOnly) throw new Error('counts of pending-only recording depend on what was pending');
  return countDeltas(records.map((r) => ({ attempt: r.attempt, result: recordedResult(r, rules) })));
}

/**
 * The transmission a record is of (its attempt row's number): the send row's `attempts` after it is
 * recorded, and `resends` the transmissions beyond the wave (a first batch's claim writes nothing).
 */
function transmissionOf(r: OutcomeRecord): number {
  return r.transmission ?? r.attempt;
}

/** The result a record is stored with: an accepted send is what the channel counts acceptance as. */
function recordedResult(r: OutcomeRecord, rules: RecordingRules): string {
  return r.outcome.result === 'sent' ? rules.acceptedAs : r.outcome.result;
}

/**
 * Write a chunk of outcomes of one run (null: single sends) and return the counts it added.
 * `counterSlot`: the counts go to this slot of the run's counters (wizard_run_counter, folded into
 * the run's row by foldRunCounters) instead of the run's row itself, so that batches recording at
 * once do not queue on that one row's lock; either way in the transaction that writes the records.
 */
export async function recordOutcomes(
  pool: Pool,
  runId: number | null,
  records: readonly OutcomeRecord[],
  rules: RecordingRules,
  counterSlot: string | null = null,
): Promise<RecordedCounts> {
  if (records.length === 0) return { ...NO_COUNTS };
  // Sends are locked in a stable order (leads and addresses sort themselves in applyValidity).
  const sorted = [...records].sort((a, b) => (BigInt(a.sendId) < BigInt(b.sendId) ? -1 : 1));
  const resultOf = (r: OutcomeRecord) => recordedResult(r, rules);
  const col = <T>(f: (r: OutcomeRecord) => T) => sorted.map(f);
  // What the send and its attempt row both keep of the outcome, in this order.
  const outcomeCols = [
    col(resultOf),
    col((r) => r.outcome.code),
    col((r) => r.outcome.detail),
    col((r) => r.outcome.errorType),
    col((r) => r.outcome.reason),
    col((r) => r.messageId),
  ];
  if (runId !== null && deliveredOnly(sorted, rules)) {
    return recordDeliveries(pool, runId, sorted, rules, outcomeCols, col, counterSlot);
  }
  return inTransaction(pool, async (client) => {
    // A later transmission's outcome overwrites the send row: the first attempt the row may carry
    // becomes an attempt row first (recordDeliveries).
    const later = sorted.filter((r) => transmissionOf(r) > 1).map((r) => r.sendId);
    if (later.length > 0) {
      await client.query(
        `WITH kept AS (${KEEP_ROW_ATTEMPT('SELECT unnest($1::bigint[])')})
         UPDATE send SET first_attempt_at = NULL WHERE id = ANY($1::bigint[]) AND first_attempt_at IS NOT NULL`,
        [later],
      );
    }
    const updated = await client.query<{ id: string; result: string; sent_at: Date | null }>(
      `WITH v AS (
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[],
                              $8::timestamptz[], $9::timestamptz[], $10::text[], $11::int[], $12::text[], $15::int[], $16::int[])
                  AS v(id, result, code, detail, error_type, error_reason, message_id, at, next_at, body, segments, account,
                       tx, resends)
       )
       UPDATE send s
          SET result = v.result, code = v.code, detail = v.detail, error_type = v.error_type,
              error_reason = v.error_reason, message_id = coalesce(v.message_id, s.message_id),
              body = coalesce(v.body, s.body), sms_segments = coalesce(v.segments, s.sms_segments),
              line_account_name = coalesce(v.account, s.line_account_name),
              sent_at = CASE WHEN v.result = 'pre_error' AND NOT $13 THEN s.sent_at ELSE coalesce(s.sent_at, v.at) END,
              delivered_at = CASE WHEN v.result = 'delivered' THEN v.at END,
              next_attempt_at = v.next_at, attempts = greatest(s.attempts, v.tx), resends = greatest(s.resends, v.resends),
              updated_at = now()
         FROM v WHERE s.id = v.id AND (NOT $14 OR s.result = 'pending')
       RETURNING s.id, s.result, s.sent_at`,
      [
        col((r) => r.sendId),
        ...outcomeCols,
        col((r) => r.at.toISOString()),
        col((r) => r.nextAttemptAt?.toISOString() ?? null),
        col((r) => r.extra?.body ?? null),
        col((r) => r.extra?.segments ?? null),
        col((r) => r.extra?.lineAccountName ?? null),
        rules.stampPreErrors,
        rules.pendingOnly,
        col(transmissionOf),
        col((r) => transmissionOf(r) - r.attempt),
      ],
    );
    await client.query(
      `INSERT INTO send_attempt (send_id, attempt, at, result, code, detail, error_type, error_reason, message_id,
                                 resend_reason, original_message_id)
       SELECT * FROM unnest($1::bigint[], $2::int[], $3::timestamptz[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[], $9::text[],
                            $10::text[], $11::text[])
       ON CONFLICT (send_id, attempt) DO NOTHING`,
      [
        col((r) => r.sendId),
        col(transmissionOf),
        col((r) => r.at.toISOString()),
        ...outcomeCols,
        col((r) => r.resend?.reason ?? null),
        col((r) => r.resend?.originalMessageId ?? null),
      ],
    );
    await recordSmsParts(client, sorted);
    if (rules.awaitsReceipt) await queueReceiptWaits(client, updated.rows);
    if (rules.phoneStatus) await applyPhoneStatuses(client, sorted, rules.phoneStatus);
    if (rules.validity) {
      await applyValidity(
        client,
        sorted.map((r) => ({
          leadId: r.leadId,
          address: r.address,
          // SPEC 4, one rule in domain/validity.ts: a message's error counts once (its first attempt).
          ...validityEvidence(r.outcome, r.attempt),
          errorType: r.outcome.errorType,
          reason: r.outcome.reason,
          at: r.at,
        })),
        rules.validity,
      );
    }
    const changed = new Set(updated.rows.map((r) => String(r.id)));
    const counted = rules.pendingOnly ? sorted.filter((r) => changed.has(r.sendId)) : sorted;
    const deltas = countDeltas(counted.map((r) => ({ attempt: r.attempt, result: resultOf(r) })));
    const parts = counted.reduce((n, r) => n + (r.extra?.partIds?.length ?? 0), 0);
    if (runId !== null) await addRunCounters(client, runId, deltas, parts, counterSlot);
    return deltas;
  });
}

/**
 * SMS: what a submit's outcome tells its number's status. A refusal counts (a
 * hard one for unknown subscribers quarantines at once); an accepted submit is
 * not a delivery yet, its receipt is (db/sms-queries.ts applies those).
 */
export async function applyPhoneStatuses(
  client: PoolClient,
  records: ReadonlyArray<{
    address: string;
    attempt: number;
    at: Date;
    outcome: { result: string; errorType: string | null; reason: string | null; policyBlock?: boolean };
  }>,
  opts: { quarantineAfterErrors?: number; countryCallingCode: string },
) {
  const facts = records.flatMap((r) => {
    const n = normalizeAddress('sms', r.address, opts.countryCallingCode);
    if ('error' in n) return [];
    return [
      {
        address: n.address,
        ...phoneEvidence(r.outcome, r.attempt),
        errorType: r.outcome.errorType,
        reason: r.outcome.reason,
        at: r.at,
      },
    ];
  });
  const { quarantineAfterErrors } = validityThresholds({
    invalidAfterErrors: 1,
    quarantineAfterErrors: opts.quarantineAfterErrors,
  });
  await applyAddressStatuses(client, 'sms', facts, quarantineAfterErrors);
}

/** SMS: sends now recorded as sent wait for their receipt (the timeout sweep's queue). */
async function queueReceiptWaits(
  client: PoolClient,
  rows: ReadonlyArray<{ id: string; result: string; sent_at: Date | null }>,
) {
  const waiting = rows.filter((r) => r.result === 'sent');
  if (waiting.length === 0) return;
  await client.query(
    `INSERT INTO sms_receipt_wait (send_id, sent_at)
     SELECT * FROM unnest($1::bigint[], $2::timestamptz[])
     ON CONFLICT (send_id) DO UPDATE SET sent_at = excluded.sent_at`,
    [waiting.map((r) => r.id), waiting.map((r) => (r.sent_at ?? new Date()).toISOString())],
  );
}

/** SMS: the parts the SMSC accepted, which its receipts will name (db/sms-queries applySmsReceipts). */
async function recordSmsParts(client: PoolClient, records: readonly OutcomeRecord[]) {
  const parts = records.flatMap((r) =>
    (r.extra?.partIds ?? []).map((p) => ({ sendId: r.sendId, at: r.at, ...p })),
  );
  if (parts.length === 0) return;
  await client.query(
    `INSERT INTO sms_part (send_id, seq, message_id, submitted_at)
     SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::timestamptz[])
     ON CONFLICT (send_id, seq) DO UPDATE SET message_id = excluded.message_id, submitted_at = excluded.submitted_at,
                                              stat = NULL, err = NULL, receipt_at = NULL`,
    [
      parts.map((p) => p.sendId),
      parts.map((p) => p.seq),
      parts.map((p) => p.messageId),
      parts.map((p) => p.at.toISOString()),
    ],
  );
}

/** sms_parts_count: the SMS run's "sent" figure (SPEC §6 "sent = messages after splitting"); 0 elsewhere. */
async function addRunCounters(
  client: PoolClient,
  runId: number,
  c: RecordedCounts,
  parts: number,
  slot: string | null,
) {
  if (slot !== null) {
    await client.query({
      name: 'add_run_counter_slot',
      text: `INSERT INTO wizard_run_counter AS c (run_id, slot, sent_count, delivered_count, error_count, pre_error_count, sms_parts_count)
             VALUES ($1, $7, $2, $3, $4, $5, $6)
             ON CONFLICT (run_id, slot) DO UPDATE
                SET sent_count = c.sent_count + excluded.sent_count, delivered_count = c.delivered_count + excluded.delivered_count,
                    error_count = c.error_count + excluded.error_count, pre_error_count = c.pre_error_count + excluded.pre_error_count,
                    sms_parts_count = c.sms_parts_count + excluded.sms_parts_count`,
      values: [runId, c.sent, c.delivered, c.errors, c.preErrors, parts, slot],
    });
    return;
  }
  await client.query(
    `UPDATE wizard_run
        SET sent_count = sent_count + $2, delivered_count = delivered_count + $3,
            error_count = error_count + $4, pre_error_count = pre_error_count + $5,
            sms_parts_count = sms_parts_count + $6, updated_at = now()
      WHERE id = $1`,
    [runId, c.sent, c.delivered, c.errors, c.preErrors, parts],
  );
}

/** A send's channel and where it stands (a single send's answer to its caller). */
export async function sendStanding(
  db: Queryable,
  sendId: string,
): Promise<{ channel: string; result: string; code: number | null } | null> {
  const res = await db.query<{ channel: string; result: string; code: number | null }>(
    'SELECT channel, result, code FROM send WHERE id = $1',
    [sendId],
  );
  return res.rows[0] ?? null;
}

/**
 * The common case of a bulk email batch, every outcome a delivery with nothing channel-specific:
 * what recordOutcomes writes in its transaction (sends, attempt rows, validity, run counters) as
 * one statement, one round trip and one commit instead of eight. A delivery never writes an
 * address's error row (ADDRESS_STATUS_RULES.recorded, checked below); it resets the lead's
 * error counter (LEAD_VALIDITY_RULES) and clears the statuses STATUSES_CLEARED_BY_DELIVERY lists.
 */
const DELIVERY_FACTS = { delivered: true, errors: 0, invalidNow: false };
const DELIVERY_WRITES_NO_ADDRESS_ROW = evaluateRule(ADDRESS_STATUS_RULES.recorded, DELIVERY_FACTS) === false;

function deliveredOnly(records: readonly OutcomeRecord[], rules: RecordingRules): boolean {
  return (
    DELIVERY_WRITES_NO_ADDRESS_ROW &&
    rules.validity !== null &&
    !rules.pendingOnly &&
    rules.acceptedAs === 'delivered' &&
    records.every((r) => r.outcome.result === 'sent' && !r.extra)
  );
}

const deliveredLead = {
  valid: 'l.email_valid',
  consecutiveErrors: 'l.email_error_count',
  delivered: 'true',
  errors: '0',
  invalidNow: 'false',
  threshold: '$14::int',
};

/**
 * The attempt a send row carries (first_attempt_at, migration 20261205100000) becomes an attempt
 * row before a later transmission's outcome overwrites the row: `ids` the sends to record, in a
 * statement whose other writes read the same snapshot (the row as it was).
 */
export const KEEP_ROW_ATTEMPT = (
  ids: string,
) => `INSERT INTO send_attempt (send_id, attempt, at, result, code, detail, error_type, error_reason, message_id)
     SELECT s.id, 1, s.first_attempt_at, s.result, s.code, s.detail, s.error_type, s.error_reason, s.message_id
       FROM send s WHERE s.id IN (${ids}) AND s.first_attempt_at IS NOT NULL
     ON CONFLICT (send_id, attempt) DO NOTHING`;

/**
 * `keepRowAttempts`: some outcome is of a later transmission (a resend, a later wave), whose send
 * row may carry its first attempt: that attempt is copied to an attempt row first.
 */
const recordDeliveriesSql = (counterSlot: boolean, keepRowAttempts: boolean) => `WITH v AS (
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[],
                          $8::timestamptz[], $9::int[], $10::text[], $11::text[], $12::int[], $13::text[],
                          $${counterSlot ? 22 : 21}::int[])
              AS v(id, result, code, detail, error_type, error_reason, message_id, at, attempt, resend_reason,
                   original_message_id, lead, address, resends)
   ), ${
     keepRowAttempts
       ? `kept AS (
     ${KEEP_ROW_ATTEMPT('SELECT id FROM v WHERE attempt > 1')}
     RETURNING 1
   ), `
       : ''
   }upd AS (
     -- A plain first transmission is recorded on the send row alone (first_attempt_at); any other
     -- gets an attempt row.
     UPDATE send s
        SET result = v.result, code = v.code, detail = v.detail, error_type = v.error_type,
            error_reason = v.error_reason, message_id = coalesce(v.message_id, s.message_id),
            sent_at = coalesce(s.sent_at, v.at), delivered_at = v.at, next_attempt_at = NULL,
            attempts = greatest(s.attempts, v.attempt), resends = greatest(s.resends, v.resends),
            first_attempt_at = CASE WHEN v.attempt = 1 AND v.resend_reason IS NULL THEN coalesce(s.first_attempt_at, v.at) END,
            updated_at = now()
       FROM v WHERE s.id = v.id
     RETURNING s.id
   ), att AS (
     INSERT INTO send_attempt (send_id, attempt, at, result, code, detail, error_type, error_reason, message_id,
                               resend_reason, original_message_id)
     SELECT id, attempt, at, result, code, detail, error_type, error_reason, message_id, resend_reason, original_message_id
       FROM v WHERE attempt > 1 OR resend_reason IS NOT NULL
     ON CONFLICT (send_id, attempt) DO NOTHING
     RETURNING 1
   ), leads AS (
     UPDATE lead l
        SET email_error_count = ${compileRule(LEAD_VALIDITY_RULES.consecutiveErrors, deliveredLead)},
            email_valid = ${compileRule(LEAD_VALIDITY_RULES.valid, deliveredLead)},
            updated_at = now()
       FROM (SELECT DISTINCT lead FROM v) d
      WHERE l.id = d.lead AND ${compileRule(LEAD_VALIDITY_RULES.changes, deliveredLead)}
     RETURNING 1
   ), addresses AS (
     UPDATE address_status a SET ${CLEAR_BY_DELIVERY_SET}
      WHERE a.channel = 'email' AND ${CLEAR_BY_DELIVERY_WHERE('$15::text[]', 'IN (SELECT lower(address) FROM v)')}
     RETURNING 1
   ), run AS (${
     counterSlot
       ? `
     -- The batch's own counter slot (foldRunCounters): no lock shared with other batches.
     INSERT INTO wizard_run_counter AS c (run_id, slot, sent_count, delivered_count, error_count, pre_error_count)
     SELECT $16, $21, $17, $18, $19, $20
      WHERE (SELECT count(*) FROM upd) + (SELECT count(*) FROM att)${keepRowAttempts ? ' + (SELECT count(*) FROM kept)' : ''}
            + (SELECT count(*) FROM leads) + (SELECT count(*) FROM addresses) >= 0
     ON CONFLICT (run_id, slot) DO UPDATE
        SET sent_count = c.sent_count + excluded.sent_count, delivered_count = c.delivered_count + excluded.delivered_count,
            error_count = c.error_count + excluded.error_count, pre_error_count = c.pre_error_count + excluded.pre_error_count`
       : `
     -- Last, after every other write of the statement (it reads their results): the run's row is
     -- the one all batches of the run share.
     UPDATE wizard_run
        SET sent_count = sent_count + $17, delivered_count = delivered_count + $18,
            error_count = error_count + $19, pre_error_count = pre_error_count + $20, updated_at = now()
      WHERE id = $16 AND (SELECT count(*) FROM upd) + (SELECT count(*) FROM att)${keepRowAttempts ? ' + (SELECT count(*) FROM kept)' : ''}
                         + (SELECT count(*) FROM leads) + (SELECT count(*) FROM addresses) >= 0`
   }
     RETURNING 1
   )
   SELECT (SELECT count(*) FROM upd)::int AS updated, (SELECT count(*) FROM run)::int AS run`;
// Prepared (named): planned at each call, this statement cost PostgreSQL 1.1-1.3 ms of planning a
// group (as much as executing it), 238 µs a message in all; its generic plan, index probes by
// send, lead and address, runs faster than the custom ones (2026-12-03 evening, bench/RESULTS.md).
// An earlier form of the statement, prepared in the morning, ran a generic plan ten times slower:
// measure again (npm run bench -- --pg-stats prints planning time) when its joins change.
const RECORD_DELIVERIES = [false, true].map((slot) =>
  [false, true].map((keep) => recordDeliveriesSql(slot, keep)),
);

async function recordDeliveries(
  db: Queryable,
  runId: number,
  sorted: readonly OutcomeRecord[],
  rules: RecordingRules,
  outcomeCols: unknown[][],
  col: <T>(f: (r: OutcomeRecord) => T) => T[],
  counterSlot: string | null,
): Promise<RecordedCounts> {
  const deltas = countDeltas(sorted.map((r) => ({ attempt: r.attempt, result: 'delivered' })));
  const keepV = sorted.some((r) => transmissionOf(r) > 1) ? 1 : 0;
  await db.query({
    name: `record_deliveries_${counterSlot === null ? 0 : 1}_${keepV}`,
    text: RECORD_DELIVERIES[counterSlot === null ? 0 : 1]![keepV]!,
    values: [
      col((r) => r.sendId),
      ...outcomeCols.map((c, i) => (i === 0 ? c.map(() => rules.acceptedAs) : c)),
      col((r) => r.at.toISOString()),
      col(transmissionOf),
      col((r) => r.resend?.reason ?? null),
      col((r) => r.resend?.originalMessageId ?? null),
      col((r) => r.leadId),
      col((r) => r.address),
      rules.validity?.invalidAfterErrors,
      STATUSES_CLEARED_BY_DELIVERY,
      runId,
      deltas.sent,
      deltas.delivered,
      deltas.errors,
      deltas.preErrors,
      ...(counterSlot === null ? [] : [counterSlot]),
      col((r) => transmissionOf(r) - r.attempt),
    ],
  });
  return deltas;
}
