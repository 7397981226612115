// Wizard runs as the API reserves, cancels and reads them.
import type { Pool, PoolClient } from 'pg';
import { wizardRunWorkflowId } from '../../domain/run-lifecycle';
import { inTransaction } from '../pool';
import { cancelRunWaves, getRun, runWaves, transitionRun, type RunRow } from '../run-queries';
import type { CompiledFilter } from '../../domain/segment-filter';
import type { Row } from '../rows';

/** What a reservation stores besides the template's snapshot. */
export interface NewRun {
  channel: string;
  template: { id: number; title: string; memo: string };
  /** The template as it is at reservation (title, memo, subject, bodies…): kept with the run. */
  templateSnapshot: Record<string, unknown>;
  segmentId: number | null;
  /** The segment's name at reservation. */
  segmentName: string | null;
  /** 'reserved' for a scheduled run, 'preparing' for an immediate one. */
  status: 'reserved' | 'preparing';
  /** When the reminder mail is due (scheduled runs with a remind address). */
  remindAt: Date | null;
  /** The API key (its name) that created the run. */
  createdBy: string | null;
  leadIds: number[] | null;
  includeAlreadySent: boolean;
  permissionFilter: boolean;
  allowLongSms: boolean;
  phoneField: string | null;
  scheduledAt: Date | null;
  statusMail: string | null;
  remindMail: string | null;
  retrySchedules: Record<string, unknown> | null;
}

export interface UnsentRow {
  lead_id: number;
  address: string | null;
  reason: string;
}

export function wizardRunRepository(pool: Pool) {
  return {
    get: (id: number) => getRun(pool, id),
    transition: (id: number, from: readonly string[], status: string, extra?: { errorMessage?: string }) =>
      transitionRun(pool, id, from, status, extra),

    async segmentChannel(segmentId: number): Promise<string | null> {
      return (await this.segment(segmentId))?.channel ?? null;
    },

    async segment(segmentId: number): Promise<Row<'segment'> | null> {
      const res = await pool.query<Row<'segment'>>('SELECT * FROM segment WHERE id = $1', [segmentId]);
      return res.rows[0] ?? null;
    },

    /** A page of the live leads a segment's filter selects now, by id (up to limit + 1). */
    async segmentLeads(
      filter: CompiledFilter,
      afterId: number | null,
      limit: number,
    ): Promise<Row<'lead'>[]> {
      const n = filter.params.length;
      const res = await pool.query<Row<'lead'>>(
        `SELECT l.* FROM lead l
          WHERE l.deleted_at IS NULL AND l.merged_into_id IS NULL AND (${filter.sql})
            AND ($${n + 1}::int IS NULL OR l.id > $${n + 1}) ORDER BY l.id LIMIT $${n + 2}`,
        [...filter.params, afterId, limit + 1],
      );
      return res.rows;
    },

    /** The retry waves of runs (pending by reason, retried, given up, held). */
    waves: (ids: readonly number[]) => runWaves(pool, ids),

    /** Cancel a completed run's pending waves, recording who asked. */
    cancelWaves: (id: number, by: string | null) => cancelRunWaves(pool, id, by),

    /**
     * Store a reserved run under its workflow id; `beforeCommit` runs in the
     * same transaction (the idempotency record, test hooks).
     */
    reserve(r: NewRun, beforeCommit: (client: PoolClient, runId: number) => Promise<void>): Promise<RunRow> {
      return inTransaction(pool, async (client) => {
        const ins = await client.query<{ id: number }>(
          `INSERT INTO wizard_run (channel, template_id, template_title, template_memo, target_kind, segment_id, lead_ids,
                                   include_already_sent, permission_filter, allow_long_sms, phone_field, scheduled_at,
                                   status_mail, remind_mail, status, workflow_id, updated_by, retry_schedules,
                                   template_snapshot, segment_name, created_by, remind_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $17, '', $15, $16,
                   $18, $19, $15, $20) RETURNING id`,
          [
            r.channel,
            r.template.id,
            r.template.title,
            r.template.memo,
            r.segmentId !== null ? 'segment' : 'list',
            r.segmentId,
            r.leadIds,
            r.includeAlreadySent,
            r.permissionFilter,
            r.allowLongSms,
            r.phoneField,
            r.scheduledAt,
            r.statusMail,
            r.remindMail,
            r.createdBy,
            r.retrySchedules ? JSON.stringify(r.retrySchedules) : null,
            r.status,
            JSON.stringify(r.templateSnapshot),
            r.segmentName,
            r.remindAt,
          ],
        );
        const id = ins.rows[0]!.id;
        const upd = await client.query<RunRow>(
          'UPDATE wizard_run SET workflow_id = $2 WHERE id = $1 RETURNING *',
          [id, wizardRunWorkflowId(id)],
        );
        await beforeCommit(client, id);
        return upd.rows[0]!;
      });
    },

    /** Note the first cancel request and the key that made it (later ones keep both). */
    async markCancelRequested(id: number, by: string | null = null): Promise<void> {
      await pool.query(
        `UPDATE wizard_run
            SET cancelled_by = CASE WHEN cancel_requested_at IS NULL THEN $2 ELSE cancelled_by END,
                updated_by = CASE WHEN cancel_requested_at IS NULL THEN coalesce($2, updated_by) ELSE updated_by END,
                cancel_requested_at = coalesce(cancel_requested_at, now())
          WHERE id = $1`,
        [id, by],
      );
    },

    /**
     * A page of the unsent list: excluded leads with their reason and targets
     * still pending, by lead id, after `afterLeadId` (keyset) or past `offset`
     * rows. Each part walks its own index in lead-id order and stops at the
     * page's end, so a page costs what it holds, not the list's length; a run
     * completed with every target attempted skips the pending part.
     * The list's length is not counted here: it is the run's counters
     * (excluded + remaining), see the route.
     */
    async unsent(
      run: Pick<RunRow, 'id' | 'status' | 'target_count' | 'sent_count' | 'pre_error_count'>,
      page: { limit: number; offset: number; afterLeadId: number | null },
    ): Promise<UnsentRow[]> {
      const n = page.limit + page.offset;
      // A completed run whose counters say every target was attempted has none pending.
      const anyPending =
        run.status !== 'completed' || run.target_count > run.sent_count + run.pre_error_count;
      const res = await pool.query<UnsentRow>(
        `SELECT u.* FROM (
           (SELECT e.lead_id, e.address, e.reason FROM run_exclusion e
             WHERE e.run_id = $1 AND ($2::int IS NULL OR e.lead_id > $2)
             ORDER BY e.lead_id LIMIT $3)
           UNION ALL
           (SELECT s.lead_id, s.address, 'pending' FROM send s
             WHERE $5 AND s.run_id = $1 AND ($2::int IS NULL OR s.lead_id > $2) AND s.result = 'pending'
             ORDER BY s.lead_id LIMIT $3)
         ) u ORDER BY u.lead_id LIMIT $4 OFFSET $6`,
        [run.id, page.afterLeadId, n, page.limit, anyPending, page.offset],
      );
      return res.rows;
    },
  };
}

export type WizardRunRepository = ReturnType<typeof wizardRunRepository>;
