// What recipients' hits (clicks, opens, unsubscribes) read and record. Two
// pools: `durable` commits as usual (unsubscribes, reads); `recorder` is the
// click-and-open pool whose commits do not wait for the WAL flush
// (createTrackingRecorderPool): losing the last instant's clicks in a crash
// is acceptable, a lost unsubscribe is not.
import type { Pool } from 'pg';
import type { Queryable } from '../pool';
import {
  findToken,
  findUnsubscribeTarget,
  loadClickContext,
  recordClick,
  recordOpen,
  recordUnsubscribe,
  runLinkClickCounts,
  runResponders,
  runTrackingCounts,
  type TokenPart,
  type Visit,
} from '../tracking-queries';

/** Reading a click's facts and recording it, on one pool. */
export interface ClickRecorder {
  context: (token: string, at: Date, burstWindowMs: number) => ReturnType<typeof loadClickContext>;
  record: (click: Parameters<typeof recordClick>[1]) => ReturnType<typeof recordClick>;
}

const clickRecorder = (db: Queryable): ClickRecorder => ({
  context: (token, at, burstWindowMs) => loadClickContext(db, token, at, burstWindowMs),
  record: (click) => recordClick(db, click),
});

export function trackingRepository(durable: Pool, recorder: Pool) {
  return {
    findToken: (token: string, kind: 'click' | TokenPart) => findToken(durable, token, kind),
    findUnsubscribeTarget: (token: string) => findUnsubscribeTarget(durable, token),
    recordUnsubscribe: (token: string, visit: Visit) => recordUnsubscribe(durable, token, visit),
    recordOpen: (token: string, visit: Visit, suspected: boolean, reasons: readonly string[]) =>
      recordOpen(recorder, token, visit, suspected, reasons),
    /** Email clicks (/c): through the recorder pool. */
    emailClicks: clickRecorder(recorder),
    /** SMS short-link clicks (/s): through the durable pool, as they always were. */
    smsClicks: clickRecorder(durable),
    runCounts: (runId: number) => runTrackingCounts(durable, runId),
    runLinkClicks: (runId: number, maxUrls: number) => runLinkClickCounts(durable, runId, maxUrls),
    runResponders: (runId: number, kind: 'open' | 'click', opts: Parameters<typeof runResponders>[3]) =>
      runResponders(durable, runId, kind, opts),
  };
}

export type TrackingRepository = ReturnType<typeof trackingRepository>;
