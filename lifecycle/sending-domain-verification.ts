// Creates the daily sending-domain verification Schedule once; every worker start calls it.
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { sendingDomainVerificationWorkflow } from '../workflows/sending-domain-verification';
import { ensureSchedule } from './schedules';

export const SENDING_DOMAIN_VERIFICATION_SCHEDULE_ID = 'sending-domain-verification';

/** Idempotent (see ensureSchedule). */
export function ensureSendingDomainVerificationSchedule(
  client: Client,
  taskQueue: string,
): Promise<'created' | 'exists'> {
  return ensureSchedule(client, {
    scheduleId: SENDING_DOMAIN_VERIFICATION_SCHEDULE_ID,
    spec: { calendars: [{ hour: 4, minute: 41, comment: 'daily, off the hour' }] },
    action: { type: 'startWorkflow', workflowType: sendingDomainVerificationWorkflow, taskQueue, args: [] },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
  });
}

/** Run the verification now (the Schedule's action, outside its calendar). */
export async function triggerSendingDomainVerification(client: Client): Promise<void> {
  await client.schedule.getHandle(SENDING_DOMAIN_VERIFICATION_SCHEDULE_ID).trigger();
}
