// The signal to the run: stored reports for a run wake its workflow, which
// applies them through an activity during its asynchronous-bounce window.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { wizardRunWorkflowId } from '../domain/run-lifecycle';
import { applyPendingReports, claimReportSignal, releaseReportSignal } from '../db/report-queries';
import { asyncReportsSignal } from '../workflows/wizard-run';
import type { ValidityThresholds } from '../domain/validity';

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
  invalidAfterErrors: number | ValidityThresholds,
): Promise<'signalled' | 'already-signalled' | 'applied-directly'> {
  if (!(await claimReportSignal(pool, runId))) return 'already-signalled';
  try {
    await client.workflow.getHandle(wizardRunWorkflowId(runId)).signal(asyncReportsSignal);
    return 'signalled';
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) {
      await releaseReportSignal(pool, runId);
      throw err;
    }
    await applyPendingReports(pool, runId, invalidAfterErrors);
    return 'applied-directly';
  }
}
