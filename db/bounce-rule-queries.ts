// The bounce qualification table (SPEC 5). Built-in rules are code
// (BUILTIN_BOUNCE_RULES) and never stored. Stored rows are of two kinds:
//   - origin 'user': rules users wrote, or observed texts they qualified;
//     only these take part in matching, ahead of the built-in rules;
//   - origin 'observed': one row per normalized remote text with its
//     occurrence count, classified by whichever rule matched it, or
//     state 'undefined' when none did (waiting for a user to qualify it).
import type { Pool, PoolClient } from 'pg';
import {
  BUILTIN_BOUNCE_RULES,
  classifyBounce,
  type BounceDecision,
  type BounceRule,
  type BounceSignals,
} from '../domain/bounce-rules';
import { normalizeBounceText, OCCURRENCE_CAP } from '../domain/bounce-normalize';
import { invalidatesAtOnce } from '../domain/delivery-codes';
import type { ErrorReason, ErrorType } from '../domain/error-reasons';
import { inTransaction, type Queryable } from './pool';
import { applyValidity } from './run-queries';
import { quarantinesAtOnce, type ValidityThresholds } from '../domain/validity';

export interface BounceRuleDbRow {
  id: number;
  pattern: string;
  is_regex: boolean;
  error_type: string;
  reason: string;
  code: number;
  origin: string;
  state: string;
  normalized_text: string | null;
  occurrences: number;
  created_at: Date;
  updated_at: Date;
  occurrences_reset_at: Date | null;
  occurrences_reset_by: string | null;
}

/** A qualification is the decision on one bounce text (domain/bounce-rules.ts classifyBounce). */
export type Qualification = BounceDecision;

/** User rules in matching order (oldest first), as domain rules. */
export async function loadUserRules(db: Queryable): Promise<BounceRule[]> {
  const rows = await db.query<BounceRuleDbRow>(
    `SELECT * FROM bounce_rule WHERE origin = 'user' AND state = 'qualified' ORDER BY id`,
  );
  return rows.rows.map((r) => ({
    id: `user:${r.id}`,
    pattern: r.pattern,
    isRegex: r.is_regex,
    errorType: r.error_type as ErrorType,
    reason: r.reason as ErrorReason,
    code: r.code,
    origin: 'user' as const,
  }));
}

/**
 * The decision on a bounce: user rules, then built-in ones, on the text; then the status-code
 * fallbacks on the Status field when the report has one (SPEC 5, issue 16).
 */
export function qualify(
  text: string | null,
  userRules: readonly BounceRule[],
  signals: Omit<BounceSignals, 'diagnostic'> = { status: null },
): Qualification {
  return classifyBounce({ ...signals, diagnostic: text }, [...userRules, ...BUILTIN_BOUNCE_RULES]);
}

/**
 * Count one more occurrence of a remote text, creating its row on first sight.
 * The count is capped in SQL so concurrent bumps cannot pass the cap.
 */
export async function recordBounceText(db: Queryable, text: string, q: Qualification): Promise<void> {
  const normalized = normalizeBounceText(text);
  if (normalized === '') return;
  const state = q.ruleId === null ? 'undefined' : 'qualified';
  await db.query(
    `INSERT INTO bounce_rule (pattern, is_regex, error_type, reason, code, origin, state, normalized_text, occurrences, created_at, updated_at)
     VALUES ($1, false, $2, $3, $4, 'observed', $5, $1, 1, now(), now())
     ON CONFLICT (normalized_text) DO UPDATE
        SET occurrences = least($6::int, bounce_rule.occurrences + 1), updated_at = now(),
            -- An observed row follows the rules; a row a user qualified keeps the user's answer.
            error_type = CASE WHEN bounce_rule.origin = 'observed' THEN excluded.error_type ELSE bounce_rule.error_type END,
            reason = CASE WHEN bounce_rule.origin = 'observed' THEN excluded.reason ELSE bounce_rule.reason END,
            code = CASE WHEN bounce_rule.origin = 'observed' THEN excluded.code ELSE bounce_rule.code END,
            state = CASE WHEN bounce_rule.origin = 'observed' THEN excluded.state ELSE bounce_rule.state END`,
    [normalized, q.errorType, q.reason, q.code, state, OCCURRENCE_CAP],
  );
}

export interface RequalifyResult {
  texts: number;
  qualified: number;
  stillUndefined: number;
  reports: number;
  sends: number;
}

/**
 * Re-run classification after rules changed: observed rows get the answer of
 * the current rules, and stored bounces still classified 'undefined' take the
 * new qualification. A pending report is simply applied with it later; a report
 * already applied updates its send and, now that its text is qualified against
 * the recipient, counts toward the address's validity (an undefined text counted
 * against nobody until now).
 */
export async function requalify(
  pool: Pool,
  invalidAfterErrors: number | ValidityThresholds = 3,
): Promise<RequalifyResult> {
  const userRules = await loadUserRules(pool);
  const observed = await pool.query<{ id: number; normalized_text: string }>(
    `SELECT id, normalized_text FROM bounce_rule WHERE origin = 'observed' AND normalized_text IS NOT NULL ORDER BY id`,
  );
  let qualified = 0;
  for (const row of observed.rows) {
    const q = qualify(row.normalized_text, userRules);
    if (q.ruleId !== null) qualified++;
    await pool.query(
      `UPDATE bounce_rule SET error_type = $2, reason = $3, code = $4, state = $5, updated_at = now() WHERE id = $1`,
      [row.id, q.errorType, q.reason, q.code, q.ruleId === null ? 'undefined' : 'qualified'],
    );
  }
  const reports = await pool.query<{
    id: string;
    send_id: string | null;
    remote_text: string | null;
    status_code: string | null;
    evidence: string[] | null;
  }>(
    `SELECT id, send_id, remote_text, status_code, evidence FROM inbound_report
      WHERE action = 'bounce' AND error_reason = 'undefined' AND (remote_text IS NOT NULL OR status_code IS NOT NULL)
      ORDER BY id LIMIT 10000`,
  );
  let reportCount = 0;
  let sendCount = 0;
  for (const r of reports.rows) {
    const q = qualify(r.remote_text, userRules, { status: r.status_code });
    if (q.ruleId === null) continue;
    const evidence = [...(r.evidence ?? []), ...q.evidence, 'qualified later by requalify'];
    sendCount += await inTransaction(pool, async (client) => {
      await client.query(
        `UPDATE inbound_report SET error_type = $2, error_reason = $3, code = $4, fault = $5, evidence = $6::jsonb WHERE id = $1`,
        [r.id, q.errorType, q.reason, q.code, q.fault, JSON.stringify(evidence)],
      );
      if (r.send_id === null) return 0;
      return qualifyUndefinedSend(client, r.send_id, q, 'error_reason', false, invalidAfterErrors);
    });
    reportCount++;
  }
  sendCount += await requalifySendingErrors(pool, userRules, invalidAfterErrors);
  return {
    texts: observed.rows.length,
    qualified,
    stillUndefined: observed.rows.length - qualified,
    reports: reportCount,
    sends: sendCount,
  };
}

/** The remote reply in a sending error's detail (`meaning [COMMAND]: reply`, domain/smtp-classification.ts). */
function replyOfDetail(detail: string): string {
  return detail.replace(/^[^:[]*(?:\[[^\]]*\])?:\s*/, '');
}

/**
 * Sends whose live SMTP reply no rule knew (`undefined`, SPEC 10: it counted against nobody) take the
 * qualification the rules give their reply now, and one that speaks against the recipient counts
 * toward the address's validity from then on, as one error of that message.
 */
async function requalifySendingErrors(
  pool: Pool,
  userRules: readonly BounceRule[],
  invalidAfterErrors: number | ValidityThresholds,
): Promise<number> {
  const sends = await pool.query<{ id: string; detail: string }>(
    `SELECT id, detail FROM send
      WHERE channel = 'email' AND result = 'error' AND error_type = 'undefined' AND detail IS NOT NULL
      ORDER BY id LIMIT 10000`,
  );
  let count = 0;
  for (const row of sends.rows) {
    const q = qualify(replyOfDetail(row.detail), userRules);
    if (q.ruleId === null) continue;
    count += await inTransaction(pool, async (client) => {
      return qualifyUndefinedSend(
        client,
        row.id,
        q,
        'error_type',
        invalidatesAtOnce(q.code),
        invalidAfterErrors,
      );
    });
  }
  return count;
}

/**
 * Give a send still recorded as undefined the qualification its text now has,
 * and, when that is against the recipient, count it toward the lead's validity
 * (once: the WHERE only matches while the send is still undefined).
 */
async function qualifyUndefinedSend(
  client: PoolClient,
  sendId: string,
  q: Qualification,
  undefinedColumn: 'error_reason' | 'error_type',
  invalidNow: boolean,
  invalidAfterErrors: number | ValidityThresholds,
): Promise<number> {
  const s = await client.query<{ lead_id: number; address: string }>(
    `UPDATE send SET error_type = $2, error_reason = $3, updated_at = now()
      WHERE id = $1 AND result = 'error' AND ${undefinedColumn} = 'undefined' RETURNING lead_id, address`,
    [sendId, q.errorType, q.reason],
  );
  const send = s.rows[0];
  if (send && q.countsAgainstRecipient)
    await applyValidity(
      client,
      [
        {
          leadId: send.lead_id,
          address: send.address,
          delivered: false,
          counts: true,
          invalidNow,
          quarantineNow: invalidNow || quarantinesAtOnce(q.errorType, q.reason),
          errorType: q.errorType,
          reason: q.reason,
          at: new Date(),
        },
      ],
      invalidAfterErrors,
    );
  return s.rowCount ?? 0;
}

export async function listBounceRuleRows(
  db: Queryable,
  state: string | undefined,
  limit: number,
): Promise<BounceRuleDbRow[]> {
  const rows = await db.query<BounceRuleDbRow>(
    `SELECT * FROM bounce_rule WHERE ($1::text IS NULL OR state = $1)
      ORDER BY (origin = 'user') DESC, occurrences DESC, id LIMIT $2`,
    [state ?? null, limit],
  );
  return rows.rows;
}

export async function getBounceRuleRow(db: Queryable, id: number): Promise<BounceRuleDbRow | null> {
  const rows = await db.query<BounceRuleDbRow>('SELECT * FROM bounce_rule WHERE id = $1', [id]);
  return rows.rows[0] ?? null;
}

export interface RuleInput {
  pattern: string;
  isRegex: boolean;
  errorType: string;
  reason: string;
  code: number;
}

export async function insertUserRule(db: Queryable, r: RuleInput): Promise<BounceRuleDbRow> {
  const rows = await db.query<BounceRuleDbRow>(
    `INSERT INTO bounce_rule (pattern, is_regex, error_type, reason, code, origin, state, normalized_text, occurrences, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, 'user', 'qualified', NULL, 0, now(), now()) RETURNING *`,
    [r.pattern, r.isRegex, r.errorType, r.reason, r.code],
  );
  return rows.rows[0]!;
}

/** Edit a rule or qualify an observed text: either way it becomes a user rule. */
export async function updateUserRule(
  db: Queryable,
  id: number,
  r: RuleInput,
): Promise<BounceRuleDbRow | null> {
  const rows = await db.query<BounceRuleDbRow>(
    `UPDATE bounce_rule SET pattern = $2, is_regex = $3, error_type = $4, reason = $5, code = $6,
            origin = 'user', state = 'qualified', updated_at = now()
      WHERE id = $1 RETURNING *`,
    [id, r.pattern, r.isRegex, r.errorType, r.reason, r.code],
  );
  return rows.rows[0] ?? null;
}

/**
 * Reset a bounce text's occurrence count to 0, recording when and by whom (an API key's name).
 * Only rows that count a text (observed texts, and texts a user qualified) have a count: null for
 * a missing row, 'no-text' for a rule a user wrote, which counts nothing.
 */
export async function resetOccurrences(
  db: Queryable,
  id: number,
  by: string | null,
): Promise<BounceRuleDbRow | 'no-text' | null> {
  const rows = await db.query<BounceRuleDbRow>(
    `UPDATE bounce_rule SET occurrences = 0, occurrences_reset_at = now(), occurrences_reset_by = $2, updated_at = now()
      WHERE id = $1 AND normalized_text IS NOT NULL RETURNING *`,
    [id, by],
  );
  if (rows.rows[0]) return rows.rows[0];
  return (await getBounceRuleRow(db, id)) ? 'no-text' : null;
}
