// Client-side helpers of the wizard run workflow, used by the API (and tests):
// start, cancel and query. Not part of the workflow bundle.
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { wizardRunWorkflowId } from '../domain/run-lifecycle';
import { WIZARD_CHANNEL, WIZARD_RUN_ID, WIZARD_SCHEDULED_AT, WIZARD_STATUS } from './search-attributes';
import type { WizardRunInput, WizardRunProgress } from './wizard-run';

export async function startWizardRun(client: Client, taskQueue: string, input: WizardRunInput, initialStatus: string) {
  const workflowId = wizardRunWorkflowId(input.runId);
  try {
    await client.workflow.start('wizardRunWorkflow', {
      taskQueue,
      workflowId,
      args: [input],
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
export async function cancelWizardRun(client: Client, runId: number): Promise<'requested' | 'already-closed'> {
  try {
    await client.workflow.getHandle(wizardRunWorkflowId(runId)).cancel();
    return 'requested';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'already-closed';
    throw err;
  }
}

export async function queryWizardRunProgress(client: Client, runId: number): Promise<WizardRunProgress | null> {
  try {
    return await client.workflow.getHandle(wizardRunWorkflowId(runId)).query<WizardRunProgress>('progress');
  } catch {
    return null;
  }
}
