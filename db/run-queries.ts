// Queries of the wizard run, shared by the activities and the API: one place
// per query. Statements are set-based; nothing walks leads row by row in Node.
import type { Pool, PoolClient } from 'pg';
import { compileSegmentFilter } from '../domain/segment-filter';
import type { DeliveryOutcome } from '../domain/smtp-classification';
import { inTransaction, type Queryable } from './pool';

export interface RunRow {
  id: number;
  channel: string;
  template_id: number;
  template_title: string;
  template_memo: string;
  target_kind: 'segment' | 'list';
  segment_id: number | null;
  lead_ids: number[] | null;
  include_already_sent: boolean;
  permission_filter: boolean;
  allow_long_sms: boolean;
  phone_field: string | null;
  scheduled_at: Date | null;
  status_mail: string | null;
  remind_mail: string | null;
  status: string;
  workflow_id: string;
  error_message: string | null;
  expected_completion_at: Date | null;
  started_at: Date | null;
  completed_at: Date | null;
  cancel_requested_at: Date | null;
  updated_by: string | null;
  target_count: number;
  excluded_count: number;
  sent_count: number;
  delivered_count: number;
  pre_error_count: number;
  error_count: number;
  opener_count: number;
  clicker_count: number;
  click_count: number;
  unsubscribe_count: number;
  created_at: Date;
  updated_at: Date;
}

export async function getRun(db: Queryable, runId: number): Promise<RunRow | null> {
  const res = await db.query<RunRow>('SELECT * FROM wizard_run WHERE id = $1', [runId]);
  return res.rows[0] ?? null;
}

/**
 * Move a run to `status` only from one of `from`: a late activity retry can
 * never resurrect a cancelled run or re-open a completed one.
 */
export async function transitionRun(
  db: Queryable,
  runId: number,
  from: readonly string[],
  status: string,
  extra: { startedAt?: boolean; completedAt?: boolean; errorMessage?: string } = {},
): Promise<boolean> {
  const res = await db.query(
    `UPDATE wizard_run
        SET status = $3,
            started_at = CASE WHEN $4 THEN coalesce(started_at, now()) ELSE started_at END,
            completed_at = CASE WHEN $5 THEN coalesce(completed_at, now()) ELSE completed_at END,
            error_message = coalesce($6, error_message),
            expected_completion_at = CASE WHEN $3 IN ('completed', 'cancelled', 'error') THEN NULL ELSE expected_completion_at END,
            updated_at = now()
      WHERE id = $1 AND status = ANY($2::text[])`,
    [runId, from, status, extra.startedAt ?? false, extra.completedAt ?? false, extra.errorMessage ?? null],
  );
  return (res.rowCount ?? 0) > 0;
}

export interface PreparedTargets {
  targets: number;
  excluded: number;
}

/**
 * Resolve a run's targets in one statement (SPEC 2): every candidate lead is
 * either numbered into run_target or recorded in run_exclusion with the first
 * reason that applies. Excluded leads get no send record. Idempotent: a run
 * already prepared returns what was recorded.
 */
export async function prepareEmailTargets(pool: Pool, runId: number): Promise<PreparedTargets> {
  return inTransaction(pool, async (client) => {
    const run = (await client.query<RunRow>('SELECT * FROM wizard_run WHERE id = $1 FOR UPDATE', [runId])).rows[0];
    if (!run) throw new Error(`wizard run ${runId} does not exist`);
    const already = await countPrepared(client, runId);
    if (already.targets + already.excluded > 0) return already;

    // $1 run, $2 template, $3 include already sent, $4 permission filter, then the target predicate's own.
    const params: unknown[] = [runId, run.template_id, run.include_already_sent, run.permission_filter];
    let targetPredicate: string;
    if (run.target_kind === 'list') {
      params.push(run.lead_ids ?? []);
      targetPredicate = `l.id = ANY($5::int[])`;
    } else {
      const seg = (await client.query<{ filter: unknown }>('SELECT filter FROM segment WHERE id = $1', [run.segment_id])).rows[0];
      if (!seg) throw new Error(`segment ${run.segment_id} of wizard run ${runId} no longer exists`);
      const compiled = compileSegmentFilter(seg.filter, params.length);
      params.push(...compiled.params);
      targetPredicate = compiled.sql;
    }
    const res = await client.query<PreparedTargets>(
      `WITH cand AS (
         SELECT l.id AS lead_id, l.email AS address,
                CASE
                  WHEN l.email IS NULL OR l.email !~ '^[^@[:space:]]+@[^@[:space:]]+\\.[^@[:space:]]+$' THEN 'missing_address'
                  WHEN NOT l.email_valid THEN 'invalid_address'
                  WHEN l.unsubscribed_email_at IS NOT NULL THEN 'unsubscribed'
                  WHEN $4 AND NOT l.dm_permission THEN 'no_permission'
                  WHEN a.status = 'blocklisted' THEN 'blocklisted'
                  WHEN a.status = 'quarantined' THEN 'quarantined'
                  WHEN NOT $3 AND EXISTS (
                    SELECT 1 FROM send s
                     WHERE s.lead_id = l.id AND s.template_id = $2 AND s.run_id IS DISTINCT FROM $1
                       AND s.result IN ('delivered', 'sent')) THEN 'already_sent'
                END AS reason
           FROM lead l
           LEFT JOIN address_status a ON a.channel = 'email' AND a.address = lower(l.email)
          WHERE l.deleted_at IS NULL AND l.merged_into_id IS NULL AND (${targetPredicate})
       ), ranked AS (
         SELECT c.*, CASE WHEN c.reason IS NULL
                          THEN row_number() OVER (PARTITION BY c.reason IS NULL, lower(c.address) ORDER BY c.lead_id)
                     END AS dup_rank
           FROM cand c
       ), excl AS (
         INSERT INTO run_exclusion (run_id, lead_id, address, reason)
         SELECT $1, lead_id, address, coalesce(reason, 'duplicate') FROM ranked WHERE reason IS NOT NULL OR dup_rank > 1
         RETURNING 1
       ), tgt AS (
         INSERT INTO run_target (run_id, seq, lead_id, address)
         SELECT $1, row_number() OVER (ORDER BY lead_id), lead_id, address FROM ranked WHERE reason IS NULL AND dup_rank = 1
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM tgt)::int AS targets, (SELECT count(*) FROM excl)::int AS excluded`,
      params,
    );
    const counts = res.rows[0] ?? { targets: 0, excluded: 0 };
    await client.query(
      'UPDATE wizard_run SET target_count = $2, excluded_count = $3, updated_at = now() WHERE id = $1',
      [runId, counts.targets, counts.excluded],
    );
    return counts;
  });
}

async function countPrepared(db: Queryable, runId: number): Promise<PreparedTargets> {
  const res = await db.query<PreparedTargets>(
    `SELECT (SELECT count(*) FROM run_target WHERE run_id = $1)::int AS targets,
            (SELECT count(*) FROM run_exclusion WHERE run_id = $1)::int AS excluded`,
    [runId],
  );
  return res.rows[0] ?? { targets: 0, excluded: 0 };
}

export interface ClaimedSend {
  send_id: string;
  lead_id: number;
  address: string;
  token: string;
  name: string;
  attributes: Record<string, unknown>;
  attempt: number;
}

/**
 * Create the send records of a target range (one per run and lead: the unique
 * key makes a repeated batch harmless) and claim those never attempted.
 * `reclaimInterrupted` also claims sends an earlier, interrupted execution of
 * this same batch claimed but never recorded (at-least-once for that window).
 */
export async function claimEmailBatch(
  pool: Pool,
  runId: number,
  fromSeq: number,
  toSeq: number,
  reclaimInterrupted: boolean,
): Promise<ClaimedSend[]> {
  return inTransaction(pool, async (client) => {
    await client.query(
      `INSERT INTO send (run_id, channel, lead_id, address, template_id, template_title, token, result, attempts)
       SELECT t.run_id, r.channel, t.lead_id, t.address, r.template_id, r.template_title,
              replace(gen_random_uuid()::text, '-', ''), 'pending', 0
         FROM run_target t JOIN wizard_run r ON r.id = t.run_id
        WHERE t.run_id = $1 AND t.seq BETWEEN $2 AND $3
       ON CONFLICT (run_id, lead_id) DO NOTHING`,
      [runId, fromSeq, toSeq],
    );
    const res = await client.query<ClaimedSend>(
      `WITH claimed AS (
         UPDATE send s SET attempts = CASE WHEN s.attempts = 0 THEN 1 ELSE s.attempts END, updated_at = now()
           FROM run_target t
          WHERE t.run_id = $1 AND t.seq BETWEEN $2 AND $3 AND s.run_id = $1 AND s.lead_id = t.lead_id
            AND s.result = 'pending' AND (s.attempts = 0 OR ($4 AND s.attempts = 1))
         RETURNING s.id AS send_id, s.lead_id, s.address, s.token, s.attempts AS attempt
       )
       SELECT c.*, l.name, l.attributes FROM claimed c JOIN lead l ON l.id = c.lead_id ORDER BY c.send_id`,
      [runId, fromSeq, toSeq, reclaimInterrupted],
    );
    return res.rows;
  });
}

export interface SendRecord {
  sendId: string;
  leadId: number;
  attempt: number;
  at: Date;
  outcome: DeliveryOutcome;
  messageId: string | null;
}

export interface RecordedCounts {
  sent: number;
  delivered: number;
  errors: number;
  preErrors: number;
}

/**
 * Write a chunk of outcomes in one transaction: the sends, their attempt
 * rows, the leads' validity counters and the run's counters, so the run's
 * counters always equal what the records say.
 */
export async function recordEmailOutcomes(
  pool: Pool,
  runId: number | null,
  records: readonly SendRecord[],
  invalidAfterErrors: number,
): Promise<RecordedCounts> {
  if (records.length === 0) return { sent: 0, delivered: 0, errors: 0, preErrors: 0 };
  const cols = {
    id: [] as string[],
    lead: [] as number[],
    attempt: [] as number[],
    at: [] as string[],
    result: [] as string[],
    code: [] as number[],
    detail: [] as string[],
    type: [] as (string | null)[],
    reason: [] as (string | null)[],
    msgid: [] as (string | null)[],
    counts: [] as boolean[],
    invalidNow: [] as boolean[],
  };
  const sendResult = (o: DeliveryOutcome) => (o.result === 'sent' ? 'delivered' : o.result);
  for (const r of records) {
    cols.id.push(r.sendId);
    cols.lead.push(r.leadId);
    cols.attempt.push(r.attempt);
    cols.at.push(r.at.toISOString());
    cols.result.push(sendResult(r.outcome));
    cols.code.push(r.outcome.code);
    cols.detail.push(r.outcome.detail);
    cols.type.push(r.outcome.errorType);
    cols.reason.push(r.outcome.reason);
    cols.msgid.push(r.messageId);
    // A policy block is the stream's fault, not the recipient's (REFERENCE: blocks).
    cols.counts.push(r.outcome.result === 'error' && !r.outcome.policyBlock);
    cols.invalidNow.push(r.outcome.invalidatesAtOnce);
  }
  return inTransaction(pool, async (client) => {
    await client.query(
      `WITH v AS (
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[])
                  AS v(id, result, code, detail, error_type, error_reason, message_id, at)
       )
       UPDATE send s
          SET result = v.result, code = v.code, detail = v.detail, error_type = v.error_type,
              error_reason = v.error_reason, message_id = coalesce(v.message_id, s.message_id),
              sent_at = v.at, delivered_at = CASE WHEN v.result = 'delivered' THEN v.at END, updated_at = now()
         FROM v WHERE s.id = v.id`,
      [cols.id, cols.result, cols.code, cols.detail, cols.type, cols.reason, cols.msgid, cols.at],
    );
    await client.query(
      `INSERT INTO send_attempt (send_id, attempt, at, result, code, detail, error_type, error_reason, message_id)
       SELECT * FROM unnest($1::bigint[], $2::int[], $3::timestamptz[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[], $9::text[])
       ON CONFLICT (send_id, attempt) DO NOTHING`,
      [cols.id, cols.attempt, cols.at, cols.result, cols.code, cols.detail, cols.type, cols.reason, cols.msgid],
    );
    // Validity (SPEC 4): a delivery resets the consecutive-error counter; a
    // counted error increments it; reaching the threshold, or one permanent
    // error, turns the flag invalid. Sorted by lead id to avoid deadlocks
    // between concurrent batches.
    await client.query(
      `WITH v AS (
         SELECT lead, bool_or(result = 'delivered') AS delivered, count(*) FILTER (WHERE counts)::int AS errs,
                bool_or(invalid_now) AS invalid_now
           FROM unnest($1::int[], $2::text[], $3::bool[], $4::bool[]) AS v(lead, result, counts, invalid_now)
          GROUP BY lead ORDER BY lead
       )
       UPDATE lead l
          SET email_error_count = CASE WHEN v.delivered THEN 0 ELSE l.email_error_count + v.errs END,
              email_valid = CASE WHEN v.delivered THEN l.email_valid
                                 ELSE l.email_valid AND NOT v.invalid_now AND l.email_error_count + v.errs < $5 END,
              updated_at = now()
         FROM v WHERE l.id = v.lead AND (v.delivered OR v.errs > 0 OR v.invalid_now)`,
      [cols.lead, cols.result, cols.counts, cols.invalidNow, invalidAfterErrors],
    );
    const counts: RecordedCounts = { sent: 0, delivered: 0, errors: 0, preErrors: 0 };
    for (const r of cols.result) {
      if (r === 'pre_error') counts.preErrors++;
      else {
        counts.sent++;
        if (r === 'delivered') counts.delivered++;
        else if (r === 'error') counts.errors++;
      }
    }
    if (runId !== null) await addRunCounters(client, runId, counts);
    return counts;
  });
}

async function addRunCounters(client: PoolClient, runId: number, c: RecordedCounts) {
  await client.query(
    `UPDATE wizard_run
        SET sent_count = sent_count + $2, delivered_count = delivered_count + $3,
            error_count = error_count + $4, pre_error_count = pre_error_count + $5, updated_at = now()
      WHERE id = $1`,
    [runId, c.sent, c.delivered, c.errors, c.preErrors],
  );
}

export async function setExpectedCompletion(db: Queryable, runId: number, at: Date | null) {
  await db.query('UPDATE wizard_run SET expected_completion_at = $2 WHERE id = $1 AND status = $3', [runId, at, 'running']);
}
