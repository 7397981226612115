// A single (automatic / transactional) send: one lead, one template, now.
// A workflow so the send survives a worker crash and is retried on transport
// faults like every other side effect.
import { proxyActivities } from '@temporalio/workflow';
import type { WizardRunActivities } from '../activities/wizard-run-activities';

export interface SingleSendInput {
  sendId: string;
  taskQueueSend: string;
  /** Absent in workflows started before SMS single sends existed: email. */
  channel?: string;
}

export async function singleSendWorkflow(
  input: SingleSendInput,
): Promise<{ result: string; code: number | null }> {
  const sender = proxyActivities<WizardRunActivities>({
    taskQueue: input.taskQueueSend,
    startToCloseTimeout: '5 minutes',
    retry: { initialInterval: '2s', maximumInterval: '1 minute', backoffCoefficient: 2, maximumAttempts: 10 },
  });
  return input.channel === 'sms' ? sender.sendSingleSms(input.sendId) : sender.sendSingleEmail(input.sendId);
}
