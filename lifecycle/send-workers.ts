// How many worker processes poll a send queue now: the run sizes its batches in flight by it
// (domain/repeat-bound.ts runBatchesInFlight). Temporal lists a queue's recent pollers with their
// identity (a worker process's pid@host, shared by the queues it serves) and last poll; a poller
// keeps a long poll open for about a minute, so one seen within two is alive.
import type { Client } from '@temporalio/client';

/** TASK_QUEUE_TYPE_ACTIVITY: send batches are activities on the channel's send queue. */
const ACTIVITY_QUEUE = 2;
const ALIVE_WITHIN_MS = 120_000;

export function sendQueueWorkers(client: Client): (taskQueue: string) => Promise<number> {
  return async (taskQueue) => {
    const res = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: ACTIVITY_QUEUE,
    });
    return countLivePollers(res.pollers ?? [], Date.now());
  };
}

interface Poller {
  identity?: string | null;
  lastAccessTime?: {
    seconds?: number | string | { toNumber(): number } | null;
    nanos?: number | null;
  } | null;
}

/** Distinct identities among the pollers seen within ALIVE_WITHIN_MS of `nowMs` (one without a time counts). */
export function countLivePollers(pollers: readonly Poller[], nowMs: number): number {
  const alive = new Set<string>();
  for (const p of pollers) {
    const s = p.lastAccessTime?.seconds;
    const seconds = s == null ? null : typeof s === 'object' ? s.toNumber() : Number(s);
    if (seconds !== null && nowMs - seconds * 1000 > ALIVE_WITHIN_MS) continue;
    alive.add(p.identity ?? '');
  }
  return alive.size;
}
