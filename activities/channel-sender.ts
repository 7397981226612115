// The seam between the run's generic machinery (claiming targets, retry waves,
// counters) and one channel's transport: each channel prepares its targets
// (its own exclusions) and delivers claimed sends, recording their outcomes.
import type { RecordedCounts, PreparedTargets, ClaimedSend } from '../db/run-queries';
import type { TemplateRow } from '../db/template-queries';
import type { RetrySchedule } from '../domain/retry-schedule';

export type BatchCounts = RecordedCounts & { claimed: number };

export const ZERO: BatchCounts = { sent: 0, delivered: 0, errors: 0, preErrors: 0, claimed: 0 };

export interface SendContext {
  runId: number;
  template: TemplateRow;
  /** The workflow's clock: retry due times are set on it. */
  clockMs: number;
  schedules?: Record<string, RetrySchedule>;
}

export interface ChannelSender {
  /** Resolve a run's targets and exclusions (one set-based statement); idempotent. */
  prepare(runId: number): Promise<PreparedTargets>;
  /** Render, send and record claimed sends; only counts come back. */
  deliver(ctx: SendContext, claimed: ClaimedSend[]): Promise<BatchCounts>;
}
