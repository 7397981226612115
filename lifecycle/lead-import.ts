// The client side of a background CSV import: its workflow id, a typed start and a cancel.
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { AppConfig } from '../config/config';
import { leadImportWorkflow } from '../workflows/lead-import';

export function importWorkflowId(importId: number): string {
  return `csv-import-${importId}`;
}

/** Start the import's workflow on the wizard queue; a repeated start is success. */
export async function startImport(client: Client, config: AppConfig, importId: number): Promise<void> {
  try {
    await client.workflow.start(leadImportWorkflow, {
      taskQueue: config.taskQueueWizard,
      workflowId: importWorkflowId(importId),
      args: [{ importId }],
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/** Ask the import's workflow to stop; one already ended (or never started) is fine. */
export async function cancelImportWorkflow(client: Client, importId: number): Promise<void> {
  try {
    await client.workflow.getHandle(importWorkflowId(importId)).cancel();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return;
    // An ended workflow refuses a cancel: the job's status already says how it ended.
    if ((err as Error).message?.includes('already completed')) return;
    throw err;
  }
}
