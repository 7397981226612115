// Client-side helpers of the wizard run workflow, used by the API (and tests):
// start and cancel; the reports signal is inbound's (inbound/run-signal.ts).
// Not part of the workflow bundle. (The run's progress is read from its row,
// which the workflow keeps current: GET /v1/wizard-runs/:id; the workflow's
// 'progress' query serves operators.)
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { wizardRunWorkflowId } from '../domain/run-lifecycle';
import { WIZARD_CHANNEL, WIZARD_RUN_ID, WIZARD_SCHEDULED_AT, WIZARD_STATUS } from './search-attributes';
import { sendQueueFor, type AppConfig } from '../config/config';
import type { WizardRunInput, WizardRunSettings } from './wizard-run';

/** A run's workflow settings from the configuration: the API and the consistency sweep start runs alike. */
export function wizardRunSettings(config: AppConfig, channel: string): WizardRunSettings {
  return {
    taskQueueSend: sendQueueFor(config, channel),
    batchSize: config.sendBatchSize,
    batchesInFlight: config.sendBatchesInFlight,
    maxBatchesPerExecution: config.maxBatchesPerExecution,
    asyncBounceWindowMs: config.asyncBounceWindowSeconds * 1000,
  };
}

export async function startWizardRun(
  client: Client,
  taskQueue: string,
  input: WizardRunInput,
  initialStatus: string,
  workflowId = wizardRunWorkflowId(input.runId),
) {
  try {
    await client.workflow.start('wizardRunWorkflow', {
      taskQueue,
      workflowId,
      args: [input],
      // One execution per run, ever: a start repeated after the run's workflow
      // closed (a late retry, the sweep) must not send the run a second time.
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: WIZARD_RUN_ID, value: String(input.runId) },
        { key: WIZARD_CHANNEL, value: input.channel },
        { key: WIZARD_STATUS, value: initialStatus },
        ...(input.scheduledAt ? [{ key: WIZARD_SCHEDULED_AT, value: new Date(input.scheduledAt) }] : []),
      ],
    });
  } catch (err) {
    // A repeated start of the same run is harmless.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return workflowId;
}

/** Request cancellation; a run whose workflow is already closed is not an error. */
export async function cancelWizardRun(
  client: Client,
  runId: number,
): Promise<'requested' | 'already-closed'> {
  try {
    await client.workflow.getHandle(wizardRunWorkflowId(runId)).cancel();
    return 'requested';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'already-closed';
    throw err;
  }
}
