// A background CSV import (leads or addresses): one long activity that
// heartbeats after every batch. A cancel (DELETE of the import, or the
// Temporal UI) stops it between two batches; the job's row then says
// "cancelled", whichever way the cancel came.
import { CancellationScope, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { ImportActivities, ImportSummary } from '../activities/import-activities';

const { runImport } = proxyActivities<ImportActivities>({
  // A million rows take minutes; the heartbeat, not this bound, notices a dead worker.
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 5 },
});

const { cancelImport } = proxyActivities<ImportActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 10 },
});

export async function leadImportWorkflow(input: { importId: number }): Promise<ImportSummary | null> {
  try {
    return await runImport(input.importId);
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => cancelImport(input.importId));
    }
    throw err;
  }
}
