// notifyRunOfReports: the signal that tells a run reports are pending. It
// moves to inbound/ (helper HC, issue 15 item 5); the run's start, cancel and
// settings moved to lifecycle/wizard-run.ts.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { wizardRunWorkflowId } from '../domain/run-lifecycle';
import type { Pool } from 'pg';
import { applyPendingReports } from '../db/report-queries';
import { asyncReportsSignal } from './wizard-run';

/**
 * Tell a run that asynchronous reports for it are stored and pending. At most
 * one signal is outstanding per run (the apply activity clears the flag), so
 * signals stay bounded however many reports arrive. When the run's window has
 * closed the reports are applied here, without the signal.
 */
export async function notifyRunOfReports(
  client: Client,
  pool: Pool,
  runId: number,
  invalidAfterErrors: number,
): Promise<'signalled' | 'already-signalled' | 'applied-directly'> {
  const claim = await pool.query(
    'UPDATE wizard_run SET reports_signalled_at = now() WHERE id = $1 AND reports_signalled_at IS NULL RETURNING id',
    [runId],
  );
  if (claim.rowCount === 0) return 'already-signalled';
  try {
    await client.workflow.getHandle(wizardRunWorkflowId(runId)).signal(asyncReportsSignal);
    return 'signalled';
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) {
      await pool.query('UPDATE wizard_run SET reports_signalled_at = NULL WHERE id = $1', [runId]);
      throw err;
    }
    await applyPendingReports(pool, runId, invalidAfterErrors);
    return 'applied-directly';
  }
}
