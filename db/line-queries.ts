// Queries of the LINE channel (SPEC §7): official accounts, a run's LINE targets, LINE outcomes and friend status.
// Set-based like db/run-queries.ts. LINE outcomes never touch email validity or address status: a LINE user id is
// not an address whose deliverability we track.
import type { Pool } from 'pg';
import { inTransaction, type Queryable } from './pool';
import { alreadySentSql, prepareTargets, type PreparedTargets, type RecordedCounts } from './run-queries';

export interface OfficialAccountRow {
  id: number;
  name: string;
  channel_id: string;
  /** Secret: goes into the Authorization header of pushes and nowhere else. */
  access_token: string;
  /** Secret: verifies webhook signatures. */
  channel_secret: string;
  deleted_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export async function getOfficialAccount(db: Queryable, id: number): Promise<OfficialAccountRow | null> {
  const res = await db.query<OfficialAccountRow>('SELECT * FROM official_account WHERE id = $1', [id]);
  return res.rows[0] ?? null;
}

/** The account a template names, or null when it is missing or deleted. */
export async function liveOfficialAccount(
  db: Queryable,
  id: number | null,
): Promise<OfficialAccountRow | null> {
  if (id === null) return null;
  const account = await getOfficialAccount(db, id);
  return account && !account.deleted_at ? account : null;
}

/**
 * Resolve a LINE run's targets in one statement, like prepareEmailTargets (rules in
 * domain/target-exclusions.ts). Blocked friends are targets: SPEC §7 reports them as pre-errors of the run.
 */
export function prepareLineTargets(pool: Pool, runId: number): Promise<PreparedTargets> {
  return prepareTargets(pool, runId, {
    channel: 'line',
    from: 'lead l',
    bindings: {
      lineUserId: 'l.line_user_id',
      unsubscribed: 'l.unsubscribed_line_at IS NOT NULL',
      includeAlreadySent: '$3::boolean',
      sentThisTemplateBefore: alreadySentSql('l.id'),
    },
  });
}

/** Leads of a batch whose friend status is 'blocked' now (not at preparation: an unfollow may arrive meanwhile). */
export async function blockedLeads(db: Queryable, leadIds: readonly number[]): Promise<Set<number>> {
  if (leadIds.length === 0) return new Set();
  const res = await db.query<{ id: number }>(
    `SELECT id FROM lead WHERE id = ANY($1::int[]) AND line_friend_status = 'blocked'`,
    [leadIds],
  );
  return new Set(res.rows.map((r) => r.id));
}

export async function lineQuotaExhausted(db: Queryable, runId: number): Promise<boolean> {
  const res = await db.query(
    'SELECT 1 FROM wizard_run WHERE id = $1 AND line_quota_exhausted_at IS NOT NULL',
    [runId],
  );
  return (res.rowCount ?? 0) > 0;
}

export async function markLineQuotaExhausted(db: Queryable, runId: number): Promise<void> {
  await db.query(
    'UPDATE wizard_run SET line_quota_exhausted_at = coalesce(line_quota_exhausted_at, now()), updated_at = now() WHERE id = $1',
    [runId],
  );
}

export interface LineSendRecord {
  sendId: string;
  attempt: number;
  at: Date;
  /** LINE confirms acceptance, never delivery: an accepted push is 'sent', never 'delivered'. */
  result: 'sent' | 'error' | 'pre_error';
  detail: string;
  /** What happened, e.g. 'blocked', 'monthly_limit', 'invalid_request'; null when sent. */
  reason: string | null;
  /** LINE's first sent message id, or its request id. */
  messageId: string | null;
  accountName: string;
}

/** Counter deltas of LINE records: every push is final (no retry waves), so each record adds once. */
export function lineCountDeltas(records: readonly Pick<LineSendRecord, 'result'>[]): RecordedCounts {
  const c: RecordedCounts = { sent: 0, delivered: 0, errors: 0, preErrors: 0 };
  for (const r of records) {
    if (r.result === 'pre_error') c.preErrors++;
    else {
      c.sent++;
      if (r.result === 'error') c.errors++;
    }
  }
  return c;
}

/** Write a chunk of LINE outcomes in one transaction: the sends, their attempt rows and the run's counters. */
export async function recordLineOutcomes(
  pool: Pool,
  runId: number,
  records: readonly LineSendRecord[],
): Promise<RecordedCounts> {
  const zero: RecordedCounts = { sent: 0, delivered: 0, errors: 0, preErrors: 0 };
  if (records.length === 0) return zero;
  const sorted = [...records].sort((a, b) => (BigInt(a.sendId) < BigInt(b.sendId) ? -1 : 1));
  const col = <T>(f: (r: LineSendRecord) => T) => sorted.map(f);
  return inTransaction(pool, async (client) => {
    // Only sends still pending change: a chunk recorded twice (a retried activity) counts once.
    const updated = await client.query<{ id: string; result: string }>(
      `WITH v AS (
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[])
                  AS v(id, result, detail, reason, message_id, at, account)
       )
       UPDATE send s
          SET result = v.result, detail = v.detail, error_reason = v.reason,
              message_id = coalesce(v.message_id, s.message_id), line_account_name = v.account,
              sent_at = CASE WHEN v.result = 'pre_error' THEN s.sent_at ELSE coalesce(s.sent_at, v.at) END,
              next_attempt_at = NULL, updated_at = now()
         FROM v WHERE s.id = v.id AND s.result = 'pending'
       RETURNING s.id, s.result`,
      [
        col((r) => r.sendId),
        col((r) => r.result),
        col((r) => r.detail),
        col((r) => r.reason),
        col((r) => r.messageId),
        col((r) => r.at.toISOString()),
        col((r) => r.accountName),
      ],
    );
    await client.query(
      `INSERT INTO send_attempt (send_id, attempt, at, result, detail, error_reason, message_id)
       SELECT * FROM unnest($1::bigint[], $2::int[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[])
       ON CONFLICT (send_id, attempt) DO NOTHING`,
      [
        col((r) => r.sendId),
        col((r) => r.attempt),
        col((r) => r.at.toISOString()),
        col((r) => r.result),
        col((r) => r.detail),
        col((r) => r.reason),
        col((r) => r.messageId),
      ],
    );
    const deltas = lineCountDeltas(
      updated.rows.map((r) => ({ result: r.result as LineSendRecord['result'] })),
    );
    await client.query(
      `UPDATE wizard_run
          SET sent_count = sent_count + $2, error_count = error_count + $3, pre_error_count = pre_error_count + $4,
              updated_at = now()
        WHERE id = $1`,
      [runId, deltas.sent, deltas.errors, deltas.preErrors],
    );
    return deltas;
  });
}

// Friend status changes from the LINE webhook: db/line-webhook-queries.ts (each event applied once).
