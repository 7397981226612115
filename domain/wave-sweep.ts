// The consistency sweep's rule for retry waves (issue 18): a final run's sends
// may wait for a next attempt only while the run's workflow lives to make it.
// Once the workflow is gone (terminated, failed, lost), nothing will ever act
// on those times, so the sweep gives the sends up and records why on the run.
import { isFinal, type RunWorkflowState } from './run-lifecycle';

export type WaveRepair = { action: 'none' } | { action: 'clear'; note: string };

/** The code a send ends with when its retries are abandoned (the manual: 配信が中止された). */
export const ABANDONED_RETRY_CODE = 41607;

export function waveRepair(
  run: { status: string },
  workflow: RunWorkflowState,
  pendingSends: number,
): WaveRepair {
  // A run not yet final is sweepRepair's; a live workflow still drives its waves.
  if (pendingSends <= 0 || !isFinal(run.status) || workflow.kind === 'running') return { action: 'none' };
  const gone =
    workflow.kind === 'missing'
      ? "the run's workflow no longer exists"
      : `the run's workflow ended (${workflow.status.toLowerCase().replace(/_/g, ' ')})`;
  return {
    action: 'clear',
    note:
      `${gone} while ${pendingSends} ${pendingSends === 1 ? 'send was' : 'sends were'} waiting for a retry wave ` +
      'that nothing would start: given up (41607) by the consistency sweep',
  };
}
