// Creates the daily clean-up Schedule once; every API or worker start calls it.
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { mailboxCleanupWorkflow } from '../workflows/mailbox-cleanup';
import { ensureSchedule } from './schedules';

export const MAILBOX_CLEANUP_SCHEDULE_ID = 'mailbox-full-cleanup';

/** Idempotent (see ensureSchedule). */
export function ensureMailboxCleanupSchedule(
  client: Client,
  taskQueue: string,
): Promise<'created' | 'exists'> {
  return ensureSchedule(client, {
    scheduleId: MAILBOX_CLEANUP_SCHEDULE_ID,
    spec: { calendars: [{ hour: 3, minute: 17, comment: 'daily, off the hour' }] },
    action: { type: 'startWorkflow', workflowType: mailboxCleanupWorkflow, taskQueue, args: [] },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
  });
}
