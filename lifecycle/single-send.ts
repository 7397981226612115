// The client side of a single send: its workflow id and a typed start.
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { sendQueueFor, type AppConfig } from '../config/config';
import { singleSendWorkflow } from '../workflows/single-send';

export function singleSendWorkflowId(sendId: string): string {
  return `single-send-${sendId}`;
}

/**
 * Start the send's workflow on the wizard queue; its activity runs on the
 * channel's send queue. A repeated start of the same send is success: the
 * handle is that of the workflow already running (or done).
 */
export async function startSingleSend(
  client: Client,
  config: AppConfig,
  send: { sendId: string; channel: string },
): Promise<WorkflowHandle<typeof singleSendWorkflow>> {
  const workflowId = singleSendWorkflowId(send.sendId);
  try {
    return await client.workflow.start(singleSendWorkflow, {
      taskQueue: config.taskQueueWizard,
      workflowId,
      args: [
        { sendId: send.sendId, taskQueueSend: sendQueueFor(config, send.channel), channel: send.channel },
      ],
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return client.workflow.getHandle<typeof singleSendWorkflow>(workflowId);
  }
}
