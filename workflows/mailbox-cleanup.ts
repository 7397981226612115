// Daily clean-up started by the 'mailbox-full-cleanup' Schedule.
import { proxyActivities } from '@temporalio/workflow';
import type { CleanupActivities } from '../activities/cleanup-activities';

const { releaseMailboxFull } = proxyActivities<CleanupActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { maximumAttempts: 5 },
});

export async function mailboxCleanupWorkflow(): Promise<{ addresses: number; leads: number }> {
  return releaseMailboxFull();
}
