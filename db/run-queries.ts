// Queries of the wizard run, shared by the activities and the API: one place
// per query. Statements are set-based; nothing walks leads row by row in Node.
import type { Pool, PoolClient } from 'pg';
import { compileRule, type RuleBindings } from '../domain/rule-expr';
import {
  ALREADY_SENT_RESULTS,
  exclusionReasonRule,
  ignoredErrorRule,
  TARGET_RULES,
  type TargetChannel,
} from '../domain/target-exclusions';
import {
  ADDRESS_STATUS_RULES,
  DEFAULT_QUARANTINE_AFTER_CONSECUTIVE_ERRORS,
  LEAD_VALIDITY_RULES,
  STATUSES_CLEARED_BY_DELIVERY,
  validityThresholds,
  type ValidityThresholds,
} from '../domain/validity';
import type { AddressChannel } from '../domain/address-status';
import { compileSegmentFilter } from '../domain/segment-filter';
import { unreachedSendSql } from '../domain/history-search';
import { inTransaction, type Queryable } from './pool';
import type { Row } from './rows';
import { withSendTokens } from './send-token';

/** A wizard run as stored: the columns db/rows.ts declares. */
export type RunRow = Row<'wizard_run'>;

export async function getRun(db: Queryable, runId: number): Promise<RunRow | null> {
  const res = await db.query<RunRow>('SELECT * FROM wizard_run WHERE id = $1', [runId]);
  return res.rows[0] ?? null;
}

/**
 * Add the run's counter slots to its row and remove them, in one statement: a slot's counts are
 * either still in the slot or already in the row, never both (a slot a batch writes meanwhile is
 * folded by the next fold). Every batch folds when it ends, and so do completion, cancellation and
 * failure, so the row is exact whenever no batch is recording; readers never need the slots.
 */
export async function foldRunCounters(db: Queryable, runId: number): Promise<void> {
  await db.query({
    name: 'fold_run_counters',
    text: `WITH d AS (DELETE FROM wizard_run_counter WHERE run_id = $1 RETURNING *),
                s AS (SELECT count(*) AS n, coalesce(sum(sent_count), 0) AS sent, coalesce(sum(delivered_count), 0) AS delivered,
                             coalesce(sum(error_count), 0) AS errors, coalesce(sum(pre_error_count), 0) AS pre_errors,
                             coalesce(sum(sms_parts_count), 0) AS parts FROM d)
           UPDATE wizard_run w
              SET sent_count = w.sent_count + s.sent, delivered_count = w.delivered_count + s.delivered,
                  error_count = w.error_count + s.errors, pre_error_count = w.pre_error_count + s.pre_errors,
                  sms_parts_count = w.sms_parts_count + s.parts, updated_at = now()
             FROM s WHERE w.id = $1 AND s.n > 0`,
    values: [runId],
  });
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
  // A run that ends has its counter slots in its row (a batch interrupted mid-way left its own).
  if (['completed', 'cancelled', 'error'].includes(status)) await foldRunCounters(db, runId);
  // A run that ends cancelled or in error retries nothing: no send keeps a next attempt that will never come.
  const res = await db.query<{ moved: number }>(
    `WITH moved AS (
       UPDATE wizard_run
          SET status = $3,
              started_at = CASE WHEN $4 THEN coalesce(started_at, now()) ELSE started_at END,
              completed_at = CASE WHEN $5 THEN coalesce(completed_at, now()) ELSE completed_at END,
              error_message = coalesce($6, error_message),
              expected_completion_at = CASE WHEN $3 IN ('completed', 'cancelled', 'error') THEN NULL ELSE expected_completion_at END,
              updated_at = now()
        WHERE id = $1 AND status = ANY($2::text[])
        RETURNING id
     ), dropped AS (
       UPDATE send SET next_attempt_at = NULL, updated_at = now()
        WHERE run_id IN (SELECT id FROM moved) AND $3 IN ('cancelled', 'error') AND next_attempt_at IS NOT NULL
        RETURNING 1
     )
     SELECT (SELECT count(*) FROM moved)::int AS moved, (SELECT count(*) FROM dropped)::int AS dropped`,
    [runId, from, status, extra.startedAt ?? false, extra.completedAt ?? false, extra.errorMessage ?? null],
  );
  return (res.rows[0]?.moved ?? 0) > 0;
}

/** Drop every next attempt of a run's sends (its waves will not come); how many were dropped. */
export async function dropPendingRetries(db: Queryable, runId: number): Promise<number> {
  const res = await db.query(
    `UPDATE send SET next_attempt_at = NULL, updated_at = now()
      WHERE run_id = $1 AND next_attempt_at IS NOT NULL`,
    [runId],
  );
  return res.rowCount ?? 0;
}

/**
 * Cancel a completed run's pending retry waves: recorded with who asked (the
 * first request's time and key stay), and every planned next attempt dropped.
 * False when the run is not completed.
 */
export async function cancelRunWaves(db: Queryable, runId: number, by: string | null): Promise<boolean> {
  const res = await db.query(
    `UPDATE wizard_run
        SET waves_cancelled_at = coalesce(waves_cancelled_at, now()),
            waves_cancelled_by = CASE WHEN waves_cancelled_at IS NULL THEN $2 ELSE waves_cancelled_by END,
            updated_by = CASE WHEN waves_cancelled_at IS NULL THEN coalesce($2, updated_by) ELSE updated_by END,
            updated_at = now()
      WHERE id = $1 AND status = 'completed'`,
    [runId, by],
  );
  if ((res.rowCount ?? 0) === 0) return false;
  await dropPendingRetries(db, runId);
  return true;
}

/** One reason's sends waiting for a retry wave (or held back), per run. */
export interface PendingWaves {
  reason: string;
  count: number;
  nextAt: Date;
}

export interface RunWaves {
  pending: PendingWaves[];
  /** Sends attempted more than once. */
  retried: number;
  /** Sends retried and still in error with no next attempt: the waves gave up on them. */
  givenUp: number;
  /** Sends held back before their first attempt (per-domain allowances, a breaker), with the latest time they wait for. */
  held: { count: number; until: Date | null };
}

/** The retry waves of some runs, from their sends: pending by reason, retried, given up, held. */
export async function runWaves(db: Queryable, runIds: readonly number[]): Promise<Map<number, RunWaves>> {
  const out = new Map<number, RunWaves>();
  for (const id of runIds)
    out.set(id, { pending: [], retried: 0, givenUp: 0, held: { count: 0, until: null } });
  if (runIds.length === 0) return out;
  const res = await db.query<{
    run_id: number;
    reason: string | null;
    held: boolean;
    pending: number;
    next_at: Date | null;
    last_at: Date | null;
    retried: number;
    given_up: number;
  }>(
    `SELECT run_id, error_reason AS reason, (result = 'pending') AS held,
            count(*) FILTER (WHERE next_attempt_at IS NOT NULL)::int AS pending,
            min(next_attempt_at) AS next_at, max(next_attempt_at) AS last_at,
            count(*) FILTER (WHERE attempts > 1)::int AS retried,
            count(*) FILTER (WHERE attempts > 1 AND result = 'error' AND next_attempt_at IS NULL)::int AS given_up
       FROM send
      WHERE run_id = ANY($1::int[]) AND (next_attempt_at IS NOT NULL OR attempts > 1)
      GROUP BY run_id, error_reason, (result = 'pending')`,
    [runIds],
  );
  for (const r of res.rows) {
    const w = out.get(r.run_id)!;
    w.retried += r.retried;
    w.givenUp += r.given_up;
    if (r.pending === 0 || !r.next_at) continue;
    if (r.held) {
      w.held.count += r.pending;
      if (!w.held.until || (r.last_at && r.last_at > w.held.until)) w.held.until = r.last_at;
    } else w.pending.push({ reason: r.reason ?? 'unknown', count: r.pending, nextAt: r.next_at });
  }
  for (const w of out.values()) w.pending.sort((a, b) => a.nextAt.getTime() - b.nextAt.getTime());
  return out;
}

/**
 * A channel's measured throughput in messages per minute over its recent
 * completed runs (first pass: started → completed); null when none measured.
 */
export async function measuredThroughput(db: Queryable, channel: string): Promise<number | null> {
  const res = await db.query<{ per_minute: number | null }>(
    `SELECT sum(sent_count + pre_error_count)::float8
              / nullif(sum(extract(epoch FROM completed_at - started_at)), 0) * 60 AS per_minute
       FROM (SELECT sent_count, pre_error_count, started_at, completed_at FROM wizard_run
              WHERE channel = $1 AND status = 'completed' AND started_at IS NOT NULL AND completed_at > started_at
                AND sent_count + pre_error_count > 0
              ORDER BY completed_at DESC LIMIT 20) r`,
    [channel],
  );
  const v = res.rows[0]?.per_minute;
  return v !== null && v !== undefined && v > 0 ? v : null;
}

export interface PreparedTargets {
  targets: number;
  excluded: number;
}

/**
 * The fact behind the exclusion "already sent this template" (SPEC 2) for a
 * lead id column: another run or a single send delivered it ($1 run, $2 template).
 */
export function alreadySentSql(leadColumn: string): string {
  return `EXISTS (
            SELECT 1 FROM send s
             WHERE s.lead_id = ${leadColumn} AND s.template_id = $2 AND s.run_id IS DISTINCT FROM $1
               AND s.result IN (${ALREADY_SENT_RESULTS.map((r) => `'${r}'`).join(', ')}))`;
}

/**
 * What a channel hands prepareTargets: the SQL behind each input of its rules
 * in domain/target-exclusions.ts. The rules themselves are compiled from there.
 */
export interface CandidateSpec {
  channel: TargetChannel;
  /** Channel parameters, numbered from $5 after the common $1 run, $2 template, $3 include already sent, $4 permission filter. */
  extraParams?: (run: RunRow) => unknown[];
  /** The FROM clause: the lead table as `l`, with whatever joins the bindings read. */
  from: string;
  /** SQL for every input the channel's rules read (TARGET_RULES[channel].inputs). */
  bindings: RuleBindings;
}

/**
 * The candidate CTEs of a channel, ending in `cand(lead_id, address, dedupe_key, reason, ignored_error)`;
 * reason null = a target, ignored_error = a target sent to despite its error state (reason 25).
 */
function candidateSql(spec: CandidateSpec, leads: string): string {
  const rules = TARGET_RULES[spec.channel];
  const missing = rules.inputs.filter((name) => spec.bindings[name] === undefined);
  if (missing.length > 0)
    throw new Error(`${spec.channel} preparation binds no SQL for ${missing.join(', ')}`);
  const column = (name: string) => `"in_${name}"`;
  const fromRaw: RuleBindings = {
    address: 'r.address',
    ...Object.fromEntries(rules.inputs.map((name) => [name, `r.${column(name)}`])),
  };
  return `raw AS (
         SELECT l.id AS lead_id, ${compileRule(rules.address, spec.bindings)}::text AS address,
                ${rules.inputs.map((name) => `${spec.bindings[name]} AS ${column(name)}`).join(',\n                ')}
           FROM ${spec.from}
          WHERE ${leads}
       ), cand AS (
         SELECT r.lead_id, r.address, ${compileRule(rules.dedupeKey, fromRaw)}::text AS dedupe_key,
                ${compileRule(exclusionReasonRule(spec.channel), fromRaw)}::text AS reason,
                coalesce(${compileRule(ignoredErrorRule(spec.channel), fromRaw)}, false) AS ignored_error
           FROM raw r
       )`;
}

/** A run's send no batch has reached (alias `s`): the rule is domain/history-search.ts's. */
export const unreachedSend = unreachedSendSql;

/**
 * A cancelled batch hands back the claims it never sent: each goes back to the state it was claimed
 * from (a first attempt: pending, never attempted; a wave's: its error, due now), and is marked
 * touched (updated_at): a user sees it among the run's sends, as before sends were created at
 * preparation, when the claim had made its row.
 */
export async function handBackClaims(
  db: Queryable,
  rest: ReadonlyArray<Pick<ClaimedSend, 'send_id' | 'resend'>>,
): Promise<void> {
  if (rest.length === 0) return;
  await db.query(
    `UPDATE send s SET attempts = CASE WHEN s.result = 'pending' THEN 0 ELSE s.attempts - 1 END,
                       resends = CASE WHEN s.result = 'pending' THEN 0 ELSE s.resends - v.resend::int END,
                       next_attempt_at = CASE WHEN s.result = 'error' THEN now() ELSE s.next_attempt_at END,
                       updated_at = now()
      FROM unnest($1::bigint[], $2::bool[]) AS v(id, resend) WHERE s.id = v.id`,
    [rest.map((c) => c.send_id), rest.map((c) => c.resend)],
  );
}

/** Seqs per run_send_block row: a batch's range is read between its blocks' lowest and highest send id. */
export const SEQ_BLOCK = 100;

/**
 * Resolve a run's targets in one statement (SPEC 2, rules in
 * domain/target-exclusions.ts): every candidate lead is either a target, whose
 * send is created here pending and never attempted, numbered (send.seq) for
 * the batches' ranges, or recorded in run_exclusion with the first reason that
 * applies (duplicates of one dedupe key after the first). Excluded leads get no
 * send record. Idempotent: a run already prepared returns what was recorded.
 * Each channel supplies only the SQL of its rules' inputs.
 */
export async function prepareTargets(
  pool: Pool,
  runId: number,
  spec: CandidateSpec,
): Promise<PreparedTargets> {
  return inTransaction(pool, async (client) => {
    const run = (await client.query<RunRow>('SELECT * FROM wizard_run WHERE id = $1 FOR UPDATE', [runId]))
      .rows[0];
    if (!run) throw new Error(`wizard run ${runId} does not exist`);
    const already = await countPrepared(client, runId);
    if (already.targets + already.excluded > 0) return already;

    const params: unknown[] = [
      runId,
      run.template_id,
      run.include_already_sent,
      run.permission_filter,
      ...(spec.extraParams?.(run) ?? []),
    ];
    let targetPredicate: string;
    if (run.target_kind === 'list') {
      params.push(run.lead_ids ?? []);
      targetPredicate = `l.id = ANY($${params.length}::int[])`;
    } else {
      const seg = (
        await client.query<{ filter: unknown }>('SELECT filter FROM segment WHERE id = $1', [run.segment_id])
      ).rows[0];
      if (!seg) throw new Error(`segment ${run.segment_id} of wizard run ${runId} no longer exists`);
      const compiled = compileSegmentFilter(seg.filter, params.length);
      params.push(...compiled.params);
      targetPredicate = compiled.sql;
    }
    const res = await client.query<PreparedTargets>(
      `WITH ${candidateSql(spec, `l.deleted_at IS NULL AND l.merged_into_id IS NULL AND (${targetPredicate})`)},
       ranked AS (
         SELECT c.*, CASE WHEN c.reason IS NULL
                          THEN row_number() OVER (PARTITION BY c.reason IS NULL, c.dedupe_key ORDER BY c.lead_id)
                     END AS dup_rank
           FROM cand c
       ), excl AS (
         INSERT INTO run_exclusion (run_id, lead_id, address, reason)
         SELECT $1, lead_id, address, coalesce(reason, 'duplicate') FROM ranked WHERE reason IS NOT NULL OR dup_rank > 1
         RETURNING 1
       ), numbered AS (
         SELECT row_number() OVER (ORDER BY lead_id) AS seq, lead_id, address, ignored_error
           FROM ranked WHERE reason IS NULL AND dup_rank = 1
       ), tgt AS (
         -- The run's sends, pending and never attempted, their ids taken in seq order; no stored
         -- token: a new send's is derived from its id (db/send-token.ts).
         INSERT INTO send (run_id, channel, lead_id, address, template_id, template_title, token, result, attempts,
                           ignored_error, seq)
         SELECT $1, r.channel, t.lead_id, t.address, r.template_id, r.template_title, NULL, 'pending', 0,
                t.ignored_error, t.seq
           FROM numbered t CROSS JOIN (SELECT channel, template_id, template_title FROM wizard_run WHERE id = $1) r
          ORDER BY t.seq
         RETURNING id, seq
       ), blocks AS (
         INSERT INTO run_send_block (run_id, block, first_id, last_id)
         SELECT $1, (seq - 1) / ${SEQ_BLOCK}, min(id), max(id) FROM tgt GROUP BY 2
         RETURNING 1
       )
       -- $3 and $4 are typed here too: a channel that reads neither leaves them unused.
       SELECT (SELECT count(*) FROM tgt)::int AS targets, (SELECT count(*) FROM excl)::int AS excluded,
              (SELECT count(*) FROM blocks)::int AS blocks,
              $3::boolean AS include_already_sent, $4::boolean AS permission_filter`,
      params,
    );
    const row = res.rows[0];
    const counts = { targets: row?.targets ?? 0, excluded: row?.excluded ?? 0 };
    await client.query(
      'UPDATE wizard_run SET target_count = $2, excluded_count = $3, updated_at = now() WHERE id = $1',
      [runId, counts.targets, counts.excluded],
    );
    return counts;
  });
}

/**
 * Email targets: the rules of domain/target-exclusions.ts over the lead and its
 * address's status; `quarantineAfterErrors` decides which allowlisted
 * addresses are sent to despite their errors (reason 25).
 */
export function prepareEmailTargets(
  pool: Pool,
  runId: number,
  quarantineAfterErrors: number = DEFAULT_QUARANTINE_AFTER_CONSECUTIVE_ERRORS,
): Promise<PreparedTargets> {
  return prepareTargets(pool, runId, {
    channel: 'email',
    extraParams: () => [quarantineAfterErrors],
    from: `lead l LEFT JOIN address_status a ON a.channel = 'email' AND a.address = lower(l.email)`,
    bindings: {
      addressErrorCount: 'a.error_count',
      addressErrorType: 'a.error_type',
      addressErrorReason: 'a.reason',
      quarantineThreshold: '$5::int',
      email: 'l.email',
      emailValid: 'l.email_valid',
      unsubscribed: 'l.unsubscribed_email_at IS NOT NULL',
      dmPermission: 'l.dm_permission',
      permissionFilter: '$4::boolean',
      addressStatus: 'a.status',
      includeAlreadySent: '$3::boolean',
      sentThisTemplateBefore: alreadySentSql('l.id'),
    },
  });
}

async function countPrepared(db: Queryable, runId: number): Promise<PreparedTargets> {
  const res = await db.query<PreparedTargets>(
    `SELECT (SELECT count(*) FROM send WHERE run_id = $1)::int AS targets,
            (SELECT count(*) FROM run_exclusion WHERE run_id = $1)::int AS excluded`,
    [runId],
  );
  return res.rows[0] ?? { targets: 0, excluded: 0 };
}

export interface ClaimedSend {
  send_id: string;
  lead_id: number;
  address: string;
  /** The send's token (VERP, Message-ID): the one stored before, else derived from its id (db/send-token.ts). */
  token: string;
  /** Set when the relay already accepted this attempt before an interruption (see markAccepted). */
  message_id: string | null;
  name: string;
  attributes: Record<string, unknown>;
  /** The retry wave this claim is for (1: the first send). */
  attempt: number;
  /** The transmission number of this claim (its send_attempt row): the wave plus earlier resends. */
  transmission: number;
  /**
   * This claim repeats a message that may have gone out before its batch was interrupted
   * (README: what can be sent twice): its attempt row records it as a resend.
   */
  resend: boolean;
}

/**
 * The sends of a run's target range [$2, $3] ($1 the run): read through send_run_id_idx between the
 * lowest and highest send id of the range's blocks (run_send_block), filtered on seq. No index on
 * seq: the range costs the blocks' id span, one row per 100 sends written at preparation.
 */
const RANGE_SENDS = `SELECT s.* FROM send s
   WHERE s.run_id = $1 AND s.seq BETWEEN $2 AND $3
     AND s.id >= (SELECT min(b.first_id) FROM run_send_block b
                   WHERE b.run_id = $1 AND b.block BETWEEN ($2::int - 1) / ${SEQ_BLOCK} AND ($3::int - 1) / ${SEQ_BLOCK})
     AND s.id <= (SELECT max(b.last_id) FROM run_send_block b
                   WHERE b.run_id = $1 AND b.block BETWEEN ($2::int - 1) / ${SEQ_BLOCK} AND ($3::int - 1) / ${SEQ_BLOCK})`;

/**
 * The sends of a target range to send now, with their leads: a read, nothing written (the sends were
 * created pending at preparation; the outcome recording writes the attempt). A first execution
 * takes the range's sends never attempted. `reclaimInterrupted` (a retried batch) takes every
 * first-wave send of the range still pending and not held: an earlier, interrupted execution may
 * have sent some of them, the one at-least-once window (see README, reliability). Sends go out in
 * send id order with at most `resendWindow` unrecorded at once, so those before the last recorded
 * send of the range and the first `resendWindow` after it are resends (null: all of them are).
 */
export async function claimTargetBatch(
  pool: Pool,
  runId: number,
  fromSeq: number,
  toSeq: number,
  reclaimInterrupted: boolean,
  resendWindow: number | null = null,
): Promise<ClaimedSend[]> {
  if (!reclaimInterrupted) {
    const fresh = await pool.query<ClaimedSend>(
      `WITH claimed AS (
         SELECT s.id AS send_id, s.lead_id, s.address, s.token, 1 AS attempt, 1 AS transmission, false AS resend,
                s.message_id
           FROM (${RANGE_SENDS}) s
          WHERE s.result = 'pending' AND s.attempts = 0 AND s.resends = 0 AND s.next_attempt_at IS NULL
       )
       ${withLead}`,
      [runId, fromSeq, toSeq],
    );
    return withSendTokens(pool, fresh.rows, sendIdOf);
  }
  // A pending send's transmissions so far, counting the one an interrupted execution may have made:
  // at least one (sends claimed by the claims of before this change carry theirs in attempts).
  const again = await pool.query<ClaimedSend>(
    `WITH range_sends AS MATERIALIZED (${RANGE_SENDS}
     ), cand AS MATERIALIZED (
       SELECT s.id, greatest(s.attempts, s.resends + 1) AS prior, s.resends FROM range_sends s
        WHERE s.result = 'pending' AND s.next_attempt_at IS NULL AND s.attempts - s.resends <= 1
          AND NOT EXISTS (SELECT 1 FROM send_attempt a WHERE a.send_id = s.id AND a.attempt = s.attempts)
     ), last_recorded AS MATERIALIZED (
       SELECT coalesce(max(s.id), 0) AS id FROM range_sends s WHERE s.result <> 'pending'
     ), ranked AS (
       SELECT c.*, (c.id < l.id OR $4::int IS NULL
                    OR row_number() OVER (PARTITION BY c.id > l.id ORDER BY c.id) <= $4::int) AS resend
         FROM cand c CROSS JOIN last_recorded l
     ), claimed AS (
       SELECT s.id AS send_id, s.lead_id, s.address, s.token, 1 AS attempt,
              CASE WHEN r.resend THEN r.prior + 1 ELSE r.resends + 1 END AS transmission, r.resend, s.message_id
         FROM ranked r JOIN range_sends s ON s.id = r.id
     )
     ${withLead}`,
    [runId, fromSeq, toSeq, resendWindow],
  );
  return withSendTokens(pool, again.rows, sendIdOf);
}

/** A claimed send's token: the one stored before, else derived from its id (db/send-token.ts). */
const sendIdOf = (c: ClaimedSend) => c.send_id;

const withLead = `SELECT c.*, coalesce(l.name, '') AS name, coalesce(l.attributes, '{}'::jsonb) AS attributes
                    FROM claimed c LEFT JOIN lead l ON l.id = c.lead_id ORDER BY c.send_id`;

/**
 * Claim up to `limit` sends of a run whose retry is due at `dueBy` (the
 * workflow's clock): the attempt number moves on and the due time clears, the
 * result stays 'error' until the attempt is recorded, so the run's counters
 * keep matching the records throughout a wave.
 */
export async function claimRetryBatch(
  pool: Pool,
  runId: number,
  dueBy: Date,
  limit: number,
  reclaimInterrupted: boolean,
): Promise<ClaimedSend[]> {
  const res = await pool.query<ClaimedSend>(
    `WITH due AS (
       SELECT s.id, s.next_attempt_at IS NULL AS resend FROM send s
        WHERE s.run_id = $1 AND s.result IN ('error', 'pending')
          AND (s.next_attempt_at <= $2
               OR ($4 AND s.result = 'error' AND s.next_attempt_at IS NULL AND s.attempts - s.resends > 1
                   AND NOT EXISTS (SELECT 1 FROM send_attempt a WHERE a.send_id = s.id AND a.attempt = s.attempts)))
        ORDER BY s.id LIMIT $3 FOR UPDATE SKIP LOCKED
     ), claimed AS (
       -- A due send starts its next wave; an interrupted claim of a wave (no due time, no attempt
       -- row) may have gone out: it is resent as a further transmission of the same wave.
       UPDATE send s
          SET attempts = s.attempts + 1,
              resends = s.resends + (s.next_attempt_at IS NULL)::int,
              next_attempt_at = NULL, updated_at = now()
         FROM due WHERE s.id = due.id
       RETURNING s.id AS send_id, s.lead_id, s.address, s.token, s.attempts - s.resends AS attempt,
                 s.attempts AS transmission, due.resend, s.message_id
     )
     ${withLead}`,
    [runId, dueBy, limit, reclaimInterrupted],
  );
  return withSendTokens(pool, res.rows, sendIdOf);
}

/** Claim a single send (no run) for its one attempt. */
export async function claimSingleSend(
  pool: Pool,
  sendId: string,
  reclaimInterrupted: boolean,
): Promise<(ClaimedSend & { template_id: number }) | null> {
  const res = await pool.query<ClaimedSend & { template_id: number }>(
    `WITH claimed AS (
       UPDATE send s SET attempts = 1, updated_at = now()
        WHERE s.id = $1 AND s.run_id IS NULL AND s.result = 'pending'
          AND (s.attempts = 0 OR ($2 AND NOT EXISTS (SELECT 1 FROM send_attempt a WHERE a.send_id = s.id)))
       RETURNING s.id AS send_id, s.lead_id, s.address, s.token, s.attempts - s.resends AS attempt,
                 s.attempts AS transmission, false AS resend, s.message_id, s.template_id
     )
     ${withLead}`,
    [sendId, reclaimInterrupted],
  );
  return (await withSendTokens(pool, res.rows, sendIdOf))[0] ?? null;
}

/**
 * Make relays' acceptances durable at once, before their chunk is recorded:
 * if the worker dies now, a retried batch finds the message ids and records
 * those sends instead of sending them again. One statement for many marks
 * (see channels/email/accept-marks.ts).
 */
export async function markAccepted(
  db: Queryable,
  marks: ReadonlyArray<{ sendId: string; messageId: string }>,
): Promise<void> {
  if (marks.length === 0) return;
  await db.query(
    `UPDATE send s SET message_id = m.message_id
       FROM unnest($1::bigint[], $2::text[]) AS m(id, message_id)
      WHERE s.id = m.id`,
    [marks.map((m) => m.sendId), marks.map((m) => m.messageId)],
  );
}

/** The earliest pending retry of a run (or send held back by MX management), if any. */
export async function nextRetryDue(
  db: Queryable,
  runId: number,
): Promise<{ dueAt: Date; count: number; held: number } | null> {
  const res = await db.query<{ due_at: Date | null; count: number; held: number }>(
    `SELECT min(next_attempt_at) AS due_at, count(*)::int AS count,
            count(*) FILTER (WHERE result = 'pending')::int AS held
       FROM send WHERE run_id = $1 AND result IN ('error', 'pending') AND next_attempt_at IS NOT NULL`,
    [runId],
  );
  const row = res.rows[0];
  return row?.due_at ? { dueAt: row.due_at, count: row.count, held: row.held } : null;
}

export interface ValidityFact {
  leadId: number;
  address: string;
  delivered: boolean;
  /** This error counts toward the consecutive-error counter. */
  counts: boolean;
  /** A permanent error: invalid at once. */
  invalidNow: boolean;
  /** The address is quarantined at once (domain/validity.ts quarantinesAtOnce). */
  quarantineNow: boolean;
  errorType: string | null;
  reason: string | null;
  at: Date;
}

/**
 * Validity flags and address status rows (SPEC 4, rules in domain/validity.ts)
 * from a set of outcomes, synchronous or asynchronous alike: a delivery resets
 * the lead's consecutive-error counter and clears the address's quarantine; a
 * counted error increments both; the lead's threshold or a permanent error
 * turns the lead invalid, the quarantine threshold (a bare number: its
 * default) or an error that quarantines at once quarantines the address. Rows
 * are locked in a stable order.
 */
export async function applyValidity(
  client: PoolClient,
  facts: readonly ValidityFact[],
  thresholds: number | ValidityThresholds,
) {
  if (facts.length === 0) return;
  const { invalidAfterErrors, quarantineAfterErrors } = validityThresholds(thresholds);
  const sorted = [...facts].sort((a, b) => a.leadId - b.leadId);
  const col = <T>(f: (r: ValidityFact) => T) => sorted.map(f);
  const lead: RuleBindings = {
    valid: 'l.email_valid',
    consecutiveErrors: 'l.email_error_count',
    delivered: 'v.delivered',
    errors: 'v.errs',
    invalidNow: 'v.invalid_now',
    threshold: '$5::int',
  };
  await client.query(
    `WITH v AS (
       SELECT lead, bool_or(delivered) AS delivered, count(*) FILTER (WHERE counts)::int AS errs,
              bool_or(invalid_now) AS invalid_now
         FROM unnest($1::int[], $2::bool[], $3::bool[], $4::bool[]) AS v(lead, delivered, counts, invalid_now)
        GROUP BY lead ORDER BY lead
     )
     UPDATE lead l
        SET email_error_count = ${compileRule(LEAD_VALIDITY_RULES.consecutiveErrors, lead)},
            email_valid = ${compileRule(LEAD_VALIDITY_RULES.valid, lead)},
            updated_at = now()
       FROM v WHERE l.id = v.lead AND ${compileRule(LEAD_VALIDITY_RULES.changes, lead)}`,
    [
      col((r) => r.leadId),
      col((r) => r.delivered),
      col((r) => r.counts),
      col((r) => r.invalidNow),
      invalidAfterErrors,
    ],
  );
  await applyAddressStatuses(
    client,
    'email',
    sorted.map((r) => ({ ...r, address: r.address.toLowerCase() })),
    quarantineAfterErrors,
  );
}

/**
 * Address status rows of one channel from a set of outcomes (rules in
 * domain/validity.ts ADDRESS_STATUS_RULES): errors count and quarantine at the
 * threshold or at once; a delivery clears an erroneous or quarantined address
 * back to valid and restarts an allowlisted one's count. Addresses must be in
 * their stored form (domain/address-status.ts normalizeAddress).
 */
export async function applyAddressStatuses(
  client: PoolClient,
  channel: AddressChannel,
  facts: ReadonlyArray<Omit<ValidityFact, 'leadId'>>,
  quarantineAfterErrors: number,
) {
  if (facts.length === 0) return;
  const col = <T>(f: (r: Omit<ValidityFact, 'leadId'>) => T) => facts.map(f);
  const chunk = {
    delivered: 'v.delivered',
    errors: 'v.errs',
    quarantineNow: 'v.quarantine_now',
    threshold: '$8::int',
  };
  // On conflict the chunk's own facts are read back from the row it would have
  // inserted: its status is 'quarantined' exactly when the chunk quarantines
  // at once or alone reaches the threshold, and either quarantines the merged
  // row too (error counts never fall below 0).
  const merged: RuleBindings = {
    priorStatus: 'a.status',
    priorErrors: 'a.error_count',
    errors: 'excluded.error_count',
    quarantineNow: `excluded.status = 'quarantined'`,
    threshold: '$8::int',
  };
  await client.query(
    `WITH v AS (
       SELECT addr AS address, bool_or(delivered) AS delivered,
              count(*) FILTER (WHERE counts)::int AS errs, bool_or(quarantine_now) AS quarantine_now,
              max(error_type) FILTER (WHERE counts OR quarantine_now) AS error_type,
              max(reason) FILTER (WHERE counts OR quarantine_now) AS reason,
              max(at) AS at
         FROM unnest($1::text[], $2::bool[], $3::bool[], $4::bool[], $5::text[], $6::text[], $7::timestamptz[])
              AS v(addr, delivered, counts, quarantine_now, error_type, reason, at)
        GROUP BY addr ORDER BY 1
     )
     INSERT INTO address_status AS a (channel, address, status, error_type, reason, error_count, first_error_at, last_error_at, source, updated_at)
     SELECT $9, v.address,
            ${compileRule(ADDRESS_STATUS_RULES.status, { ...chunk, priorStatus: 'NULL::text', priorErrors: 'NULL::int' })},
            v.error_type, v.reason, v.errs, v.at, v.at, 'bounce', now()
       FROM v WHERE ${compileRule(ADDRESS_STATUS_RULES.recorded, chunk)}
     ON CONFLICT (channel, address) DO UPDATE
        SET error_count = a.error_count + excluded.error_count,
            status = ${compileRule(ADDRESS_STATUS_RULES.status, merged)},
            error_type = coalesce(excluded.error_type, a.error_type), reason = coalesce(excluded.reason, a.reason),
            first_error_at = coalesce(a.first_error_at, excluded.first_error_at), last_error_at = excluded.last_error_at,
            updated_at = now()`,
    [
      col((r) => r.address),
      col((r) => r.delivered),
      col((r) => r.counts),
      col((r) => r.quarantineNow),
      col((r) => r.errorType),
      col((r) => r.reason),
      col((r) => r.at.toISOString()),
      quarantineAfterErrors,
      channel,
    ],
  );
  await clearAddressesByDelivery(
    client,
    channel,
    facts.filter((r) => r.delivered).map((r) => r.address),
  );
}

/**
 * A delivery clears STATUSES_CLEARED_BY_DELIVERY back to valid with a zero
 * count, and restarts an allowlisted address's count (its errors are counted
 * since its last delivery, as everyone's).
 */
export const CLEAR_BY_DELIVERY_SET = `status = CASE WHEN a.status = 'allowlisted' THEN a.status ELSE 'valid' END,
         error_count = 0, updated_at = now()`;
export const CLEAR_BY_DELIVERY_WHERE = (statuses: string, addresses: string) =>
  `(a.status = ANY(${statuses}) OR (a.status = 'allowlisted' AND a.error_count > 0)) AND a.address ${addresses}`;

async function clearAddressesByDelivery(client: PoolClient, channel: AddressChannel, addresses: string[]) {
  if (addresses.length === 0) return;
  await client.query(
    `UPDATE address_status a SET ${CLEAR_BY_DELIVERY_SET}
      WHERE a.channel = $3 AND ${CLEAR_BY_DELIVERY_WHERE('$2::text[]', '= ANY($1::text[])')}`,
    [addresses, STATUSES_CLEARED_BY_DELIVERY, channel],
  );
}

export async function setExpectedCompletion(db: Queryable, runId: number, at: Date | null) {
  await db.query('UPDATE wizard_run SET expected_completion_at = $2 WHERE id = $1 AND status = $3', [
    runId,
    at,
    'running',
  ]);
}

/**
 * The run's sends wait for the relay: say why and until when (its status detail). `held_since`
 * keeps the start of the wait across repeated holds.
 */
export async function setRunHold(
  db: Queryable,
  runId: number,
  hold: { reason: string; detail: string; until: Date },
): Promise<void> {
  await db.query(
    `UPDATE wizard_run
        SET hold_reason = $2, hold_detail = $3, held_until = $4,
            held_since = CASE WHEN hold_reason IS NULL THEN now() ELSE held_since END
      WHERE id = $1`,
    [runId, hold.reason, hold.detail.slice(0, 1000), hold.until],
  );
}

/** The run's sends go out again: nothing holds them any more. */
export async function clearRunHold(db: Queryable, runId: number): Promise<void> {
  await db.query(
    `UPDATE wizard_run SET hold_reason = NULL, hold_detail = NULL, held_since = NULL, held_until = NULL
      WHERE id = $1 AND hold_reason IS NOT NULL`,
    [runId],
  );
}
