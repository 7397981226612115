// Creates the daily clean-up Schedule once; every API or worker start calls it.
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';

export const MAILBOX_CLEANUP_SCHEDULE_ID = 'mailbox-full-cleanup';

/**
 * Idempotent: an existing schedule is left as it is (its task queue included),
 * so a running deployment is never re-created by a restart.
 */
export async function ensureMailboxCleanupSchedule(
  client: Client,
  taskQueue: string,
): Promise<'created' | 'exists'> {
  try {
    await client.schedule.create({
      scheduleId: MAILBOX_CLEANUP_SCHEDULE_ID,
      spec: { calendars: [{ hour: 3, minute: 17, comment: 'daily, off the hour' }] },
      action: { type: 'startWorkflow', workflowType: 'mailboxCleanupWorkflow', taskQueue, args: [] },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
    });
    return 'created';
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) return 'exists';
    throw err;
  }
}
