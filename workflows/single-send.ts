// A single (automatic / transactional) send: one lead, one template, now.
// A workflow so the send survives a worker crash and is retried on transport
// faults like every other side effect. A send that ends in error is told to
// its template's error address, as a run's failures are (issue 18).
import { patched, proxyActivities } from '@temporalio/workflow';
import type { WizardRunActivities } from '../activities/wizard-run-activities';

export interface SingleSendInput {
  sendId: string;
  taskQueueSend: string;
  /** Absent in workflows started before SMS single sends existed: email. */
  channel?: string;
}

/** Patch id: the error notice after a failed single send. */
export const SINGLE_SEND_ERROR_NOTICE = 'single-send-error-notice';

export async function singleSendWorkflow(
  input: SingleSendInput,
): Promise<{ result: string; code: number | null }> {
  const sender = proxyActivities<WizardRunActivities>({
    taskQueue: input.taskQueueSend,
    startToCloseTimeout: '5 minutes',
    retry: { initialInterval: '2s', maximumInterval: '1 minute', backoffCoefficient: 2, maximumAttempts: 10 },
  });
  const outcome =
    input.channel === 'sms'
      ? await sender.sendSingleSms(input.sendId)
      : await sender.sendSingleEmail(input.sendId);
  if (outcome.result === 'error' && patched(SINGLE_SEND_ERROR_NOTICE)) {
    const notices = proxyActivities<WizardRunActivities>({
      startToCloseTimeout: '2 minutes',
      retry: {
        initialInterval: '2s',
        maximumInterval: '1 minute',
        backoffCoefficient: 2,
        maximumAttempts: 5,
      },
    });
    await notices.notifySingleSendFailure(input.sendId);
  }
  return outcome;
}
