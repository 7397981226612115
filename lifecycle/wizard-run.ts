// The client side of the wizard run workflow, used by the API, the
// consistency sweep and tests: its settings, a typed start and cancel. Not
// part of the workflow bundle. (The run's progress is read from its row, which
// the workflow keeps current: GET /v1/wizard-runs/:id; the workflow's
// 'progress' query serves operators.)
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { wizardRunWorkflowId } from '../domain/run-lifecycle';
import { sendQueueFor, type AppConfig } from '../config/config';
import {
  WIZARD_CHANNEL,
  WIZARD_RUN_ID,
  WIZARD_SCHEDULED_AT,
  WIZARD_STATUS,
} from '../workflows/search-attributes';
import {
  cancelWavesSignal,
  wizardRunWorkflow,
  type WizardRunInput,
  type WizardRunSettings,
} from '../workflows/wizard-run';

/** A run's workflow settings from the configuration: the API and the consistency sweep start runs alike. */
export function wizardRunSettings(config: AppConfig, channel: string): WizardRunSettings {
  return {
    taskQueueSend: sendQueueFor(config, channel),
    batchSize: config.sendBatchSize,
    batchesInFlight: config.sendBatchesInFlight,
    maxBatchesPerExecution: config.maxBatchesPerExecution,
    asyncBounceWindowMs: config.asyncBounceWindowSeconds * 1000,
    heartbeatTimeoutMs: config.batchHeartbeatTimeoutSeconds * 1000,
  };
}

/**
 * Start a run's workflow, typed by the workflow function itself. A repeated
 * start of the same run (a retried request, the sweep) is success: one
 * execution per run, ever.
 */
export async function startWizardRun(
  client: Client,
  taskQueue: string,
  input: WizardRunInput,
  initialStatus: string,
  workflowId = wizardRunWorkflowId(input.runId),
): Promise<string> {
  try {
    await client.workflow.start(wizardRunWorkflow, {
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
    await client.workflow.getHandle<typeof wizardRunWorkflow>(wizardRunWorkflowId(runId)).cancel();
    return 'requested';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'already-closed';
    throw err;
  }
}

/**
 * Tell a completed run's workflow its pending waves were cancelled (the API
 * recorded it and dropped the next attempts first). A workflow already closed
 * has no waves left to stop: not an error.
 */
export async function signalWavesCancelled(client: Client, runId: number): Promise<void> {
  try {
    await client.workflow
      .getHandle<typeof wizardRunWorkflow>(wizardRunWorkflowId(runId))
      .signal(cancelWavesSignal);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return;
    throw err;
  }
}
