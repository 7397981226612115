// The consistency sweep's queries for retry waves (issue 18; the rule is domain/wave-sweep.ts).
import { ABANDONED_RETRY_CODE } from '../domain/wave-sweep';
import type { Queryable } from './pool';

/**
 * Final runs with sends that still have a next attempt, and how many: read through the partial index
 * on sends with a next attempt, so the sweep does not walk every finished run.
 */
export async function orphanWaveCandidates(
  db: Queryable,
  finalStatuses: readonly string[],
  limit: number,
): Promise<Array<{ id: number; status: string; workflow_id: string | null; pending: number }>> {
  const res = await db.query<{ id: number; status: string; workflow_id: string | null; pending: number }>(
    `SELECT r.id, r.status, r.workflow_id, p.pending
       FROM (SELECT run_id, count(*)::int AS pending FROM send
              WHERE next_attempt_at IS NOT NULL AND run_id IS NOT NULL GROUP BY run_id) p
       JOIN wizard_run r ON r.id = p.run_id
      WHERE r.status = ANY($1::text[])
      ORDER BY r.id LIMIT $2`,
    [finalStatuses, limit],
  );
  return res.rows;
}

/**
 * Give up a run's sends that wait for a retry wave nothing will make: no next attempt, and those in
 * error end 41607 (delivery abandoned) with the reason before their last reply. Recorded on the run
 * (when, why, how many in all). Returns how many sends were given up now.
 */
export async function clearOrphanWaves(db: Queryable, runId: number, note: string): Promise<number> {
  const res = await db.query<{ sends: number }>(
    `WITH cleared AS (
       UPDATE send
          SET next_attempt_at = NULL,
              code = CASE WHEN result = 'error' THEN $3::int ELSE code END,
              detail = CASE WHEN result = 'error' THEN left($2 || coalesce('; last: ' || detail, ''), 2000) ELSE detail END,
              updated_at = now()
        WHERE run_id = $1 AND next_attempt_at IS NOT NULL
        RETURNING 1
     ), counted AS (SELECT count(*)::int AS n FROM cleared)
     UPDATE wizard_run
        SET waves_swept_at = now(), waves_sweep_note = $2,
            waves_swept_sends = coalesce(waves_swept_sends, 0) + (SELECT n FROM counted), updated_at = now()
      WHERE id = $1 AND (SELECT n FROM counted) > 0
      RETURNING (SELECT n FROM counted) AS sends`,
    [runId, note, ABANDONED_RETRY_CODE],
  );
  return res.rows[0]?.sends ?? 0;
}
