// The consistency sweep started by the 'wizard-run-consistency-sweep'
// Schedule: no run stays in a non-final status without a live workflow.
import { proxyActivities } from '@temporalio/workflow';
import type { RunSweepActivities, SweepResult } from '../activities/run-sweep-activities';

const { sweepRuns, expireIdempotency } = proxyActivities<RunSweepActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { maximumAttempts: 3 },
});

export async function runConsistencySweepWorkflow(): Promise<
  SweepResult & { idempotencyKeysExpired: number }
> {
  const result = await sweepRuns();
  return { ...result, idempotencyKeysExpired: await expireIdempotency() };
}
