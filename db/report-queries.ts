// Applying asynchronous reports (SPEC 4): a bounce after acceptance turns a
// delivered send into error 90000 and counts like a synchronous error; a spam
// complaint blocklists the address and unsubscribes the lead from bulk mail.
// Each report is applied once (status pending → applied under a row lock).
import type { Pool } from 'pg';
import { ASYNC_BOUNCE_CODE } from '../domain/delivery-codes';
import { inTransaction, type Queryable } from './pool';
import { KEEP_ROW_ATTEMPT } from './outcomes';
import { applyValidity } from './run-queries';
import { quarantinesAtOnce, type ValidityThresholds } from '../domain/validity';

export interface AppliedReports {
  bounced: number;
  complaints: number;
  /** Bounced sends, for the failure notice. */
  bouncedSends: Array<{ address: string; detail: string; lead_id: number; template_id: number | null }>;
}

/** Apply the pending reports of one run (or of sends without a run when runId is null). */
export async function applyPendingReports(
  pool: Pool,
  runId: number | null,
  invalidAfterErrors: number | ValidityThresholds,
): Promise<AppliedReports> {
  // The run's signal flag is cleared and committed before the reports are read,
  // so a report stored from here on signals the run again. Cleared inside the
  // reading transaction instead, a report's notify could still see the old flag
  // (its UPDATE … WHERE flag IS NULL skips a row whose committed version is set,
  // without waiting for our uncommitted clear) and send no signal, while our
  // read had already missed that report: a lost wake-up, seen in
  // test/e2e/bounces.test.ts.
  if (runId !== null)
    await pool.query('UPDATE wizard_run SET reports_signalled_at = NULL WHERE id = $1', [runId]);
  return inTransaction(pool, async (client) => {
    const reports = await client.query<{
      id: string;
      send_id: string;
      action: string;
      remote_text: string | null;
      error_type: string | null;
      error_reason: string | null;
      fault: string | null;
    }>(
      `SELECT id, send_id, action, remote_text, error_type, error_reason, fault FROM inbound_report
        WHERE run_id IS NOT DISTINCT FROM $1 AND status = 'pending' AND send_id IS NOT NULL
        ORDER BY id LIMIT 10000 FOR UPDATE SKIP LOCKED`,
      [runId],
    );
    const bounces = reports.rows.filter((r) => r.action === 'bounce');
    const complaints = reports.rows.filter((r) => r.action === 'complaint');
    const bounced = await client.query<{
      id: string;
      lead_id: number;
      address: string;
      detail: string;
      template_id: number | null;
      run_id: number | null;
      error_type: string | null;
      error_reason: string | null;
      fault: string | null;
    }>(
      `WITH r AS (
         SELECT DISTINCT ON (send_id) send_id, remote_text, error_type, error_reason, fault
           FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $6::text[])
                AS r(send_id, remote_text, error_type, error_reason, fault)
          ORDER BY send_id
       ), kept AS (
         -- The delivery attempt a send row may carry becomes an attempt row before the bounce overwrites it.
         ${KEEP_ROW_ATTEMPT('SELECT send_id FROM r')}
       )
       UPDATE send s
          SET result = 'error', code = $5, detail = coalesce(r.remote_text, 'bounced after acceptance'),
              error_type = coalesce(r.error_type, 'hard'), error_reason = coalesce(r.error_reason, 'undefined'),
              delivered_at = NULL, first_attempt_at = NULL, updated_at = now()
         FROM r WHERE s.id = r.send_id AND s.result = 'delivered'
       RETURNING s.id, s.lead_id, s.address, s.detail, s.template_id, s.run_id, s.error_type, s.error_reason, r.fault`,
      [
        bounces.map((b) => b.send_id),
        bounces.map((b) => b.remote_text),
        bounces.map((b) => b.error_type),
        bounces.map((b) => b.error_reason),
        ASYNC_BOUNCE_CODE,
        bounces.map((b) => b.fault),
      ],
    );
    const now = new Date();
    await applyValidity(
      client,
      bounced.rows.map((b) => ({
        leadId: b.lead_id,
        address: b.address,
        delivered: false,
        // Issue 16: a refusal about our side, our rate or our message never counts against the
        // recipient, and an undefined text counts only once a rule qualifies it (requalify).
        counts: (b.fault === null || b.fault === 'recipient') && b.error_type !== 'undefined',
        invalidNow: false,
        // A hard unknown user or closed account quarantines the address at once (issue 18).
        quarantineNow:
          (b.fault === null || b.fault === 'recipient') && quarantinesAtOnce(b.error_type, b.error_reason),
        errorType: b.error_type,
        reason: b.error_reason,
        at: now,
      })),
      invalidAfterErrors,
    );
    if (runId !== null && bounced.rows.length > 0) {
      await client.query(
        'UPDATE wizard_run SET delivered_count = delivered_count - $2, error_count = error_count + $2, updated_at = now() WHERE id = $1',
        [runId, bounced.rows.length],
      );
    }
    if (complaints.length > 0) {
      // A complaint blocklists at once, even if the user never clicked unsubscribe.
      await client.query(
        `WITH c AS (SELECT DISTINCT s.lead_id, lower(s.address) AS address FROM send s WHERE s.id = ANY($1::bigint[]))
         , blk AS (
           INSERT INTO address_status AS a (channel, address, status, error_type, reason, error_count, first_error_at, last_error_at, source, updated_at)
           SELECT 'email', c.address, 'blocklisted', 'hard', 'refused', 0, now(), now(), 'complaint', now() FROM c
           ON CONFLICT (channel, address) DO UPDATE SET status = 'blocklisted', source = 'complaint', reason = 'refused',
                  last_error_at = now(), updated_at = now()
           RETURNING 1)
         UPDATE lead l SET unsubscribed_email_at = coalesce(l.unsubscribed_email_at, now()), updated_at = now()
           FROM c WHERE l.id = c.lead_id`,
        [complaints.map((c) => c.send_id)],
      );
    }
    await client.query(
      `UPDATE inbound_report SET status = 'applied', applied_at = now() WHERE id = ANY($1::bigint[])`,
      [reports.rows.map((r) => r.id)],
    );
    return {
      bounced: runId !== null ? bounced.rows.length : 0,
      complaints: complaints.length,
      bouncedSends: bounced.rows.map((b) => ({
        address: b.address,
        detail: b.detail,
        lead_id: b.lead_id,
        template_id: b.template_id,
      })),
    };
  });
}

/** Claim the run's one outstanding report signal; false when one is already out. */
export async function claimReportSignal(db: Queryable, runId: number): Promise<boolean> {
  const claim = await db.query(
    'UPDATE wizard_run SET reports_signalled_at = now() WHERE id = $1 AND reports_signalled_at IS NULL RETURNING id',
    [runId],
  );
  return (claim.rowCount ?? 0) > 0;
}

/** Give the claim back when the signal could not be sent, so the next report tries again. */
export async function releaseReportSignal(db: Queryable, runId: number): Promise<void> {
  await db.query('UPDATE wizard_run SET reports_signalled_at = NULL WHERE id = $1', [runId]);
}
