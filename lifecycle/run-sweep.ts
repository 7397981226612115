// Creates the consistency sweep's Schedule once; every worker start calls it.
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { runConsistencySweepWorkflow } from '../workflows/run-sweep';
import { ensureSchedule } from './schedules';

export const RUN_SWEEP_SCHEDULE_ID = 'wizard-run-consistency-sweep';

/** Idempotent (see ensureSchedule). */
export function ensureRunSweepSchedule(client: Client, taskQueue: string): Promise<'created' | 'exists'> {
  return ensureSchedule(client, {
    scheduleId: RUN_SWEEP_SCHEDULE_ID,
    spec: { intervals: [{ every: '5 minutes' }] },
    action: { type: 'startWorkflow', workflowType: runConsistencySweepWorkflow, taskQueue, args: [] },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '10 minutes' },
  });
}
