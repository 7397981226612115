// Daily re-verification of every sending domain (issue 19), started by the
// 'sending-domain-verification' Schedule; on demand, trigger the Schedule or
// POST /v1/sending-domains/{id}/verify.
import { proxyActivities } from '@temporalio/workflow';
import type { SenderAuthActivities } from '../activities/sender-auth-activities';

const { reverifySendingDomains } = proxyActivities<SenderAuthActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { maximumAttempts: 5 },
});

export async function sendingDomainVerificationWorkflow(): Promise<{ verified: number; failed: number }> {
  return reverifySendingDomains();
}
