// SPEC section 2: the wizard run's statuses and what a user may do in each.
export const RUN_STATUSES = ['reserved', 'preparing', 'running', 'completed', 'error', 'cancelled'] as const;
export type RunStatusName = (typeof RUN_STATUSES)[number];

/** Statuses a DELETE may cancel; a cancelled run may be deleted again harmlessly. */
export const CANCELLABLE_STATUSES: readonly RunStatusName[] = ['reserved', 'preparing', 'running'];
export const FINAL_STATUSES: readonly RunStatusName[] = ['completed', 'error', 'cancelled'];

export function isCancellable(status: string): boolean {
  return (CANCELLABLE_STATUSES as readonly string[]).includes(status);
}

export function isFinal(status: string): boolean {
  return (FINAL_STATUSES as readonly string[]).includes(status);
}

/** Workflow id of a run: one function, so the API, the worker and operators agree. */
export function wizardRunWorkflowId(runId: number): string {
  return `wizard-run-${runId}`;
}

/**
 * Expected completion from measured throughput (SPEC 2): remaining messages
 * over the rate observed so far. Null until something was measured.
 */
export function expectedCompletion(opts: {
  startedAtMs: number;
  nowMs: number;
  done: number;
  total: number;
}): { expectedAtMs: number; minutesLeft: number } | null {
  const elapsed = opts.nowMs - opts.startedAtMs;
  if (opts.done <= 0 || elapsed <= 0) return null;
  const remaining = Math.max(0, opts.total - opts.done);
  const msLeft = (remaining * elapsed) / opts.done;
  return { expectedAtMs: Math.round(opts.nowMs + msLeft), minutesLeft: Math.ceil(msLeft / 60_000) };
}

/**
 * Failures a run cannot recover from: activities throw them non-retryable
 * (channels/run-failure.ts), and the workflow ends the run in `error` with
 * the failure's message, written for the user. One list for both sides.
 */
export const RUN_FAILURE_TYPES = [
  'RunMissing',
  'TemplateMissing',
  'SegmentMissing',
  'AccountMissing',
  'ChannelUnavailable',
  // Issue 19: the run's pre-flight check refused it (complaint rate, excluded share); nothing sent.
  'PreflightRefused',
] as const;
export type RunFailureType = (typeof RUN_FAILURE_TYPES)[number];

export function isRunFailure(type: string | null | undefined): type is RunFailureType {
  return (RUN_FAILURE_TYPES as readonly (string | null | undefined)[]).includes(type);
}

/** What the consistency sweep found for a run's workflow. */
export type RunWorkflowState = { kind: 'missing' } | { kind: 'running' } | { kind: 'closed'; status: string };

export type SweepRepair =
  | { action: 'none' }
  /** A reserved run whose workflow was never started (the API stopped between COMMIT and start). */
  | { action: 'start' }
  | { action: 'cancelled' }
  | { action: 'error'; message: string };

/** A run changed this recently may still have its workflow being started: the sweep leaves it alone. */
export const SWEEP_GRACE_SECONDS = 120;

/**
 * The consistency sweep's rule (issue: no run stays in a non-final status
 * without a live workflow that will move it). A run whose workflow is alive,
 * or whose status is final, is consistent; otherwise it is repaired: a
 * reserved run that never had a workflow is started, a cancel that was asked
 * for is honoured, anything else ends in error with a reason the user can act on.
 */
export function sweepRepair(
  run: {
    status: string;
    cancelRequested: boolean;
    done: number;
    targets: number;
    /** Nothing was prepared or started yet (an immediate run is stored `preparing`). */
    neverStarted?: boolean;
  },
  workflow: RunWorkflowState,
): SweepRepair {
  if (isFinal(run.status) || workflow.kind === 'running') return { action: 'none' };
  if (run.cancelRequested) return { action: 'cancelled' };
  const unstarted = run.status === 'reserved' || (run.status === 'preparing' && run.neverStarted === true);
  if (unstarted && workflow.kind === 'missing') return { action: 'start' };
  const ended =
    workflow.kind === 'missing'
      ? "the run's workflow no longer exists"
      : `the run's workflow ended (${workflow.status.toLowerCase().replace(/_/g, ' ')})`;
  if (run.status === 'reserved') {
    return {
      action: 'error',
      message: `${ended} before the run started, so nothing was sent; create the run again`,
    };
  }
  return {
    action: 'error',
    message:
      `${ended} while the run was ${run.status}, after ${run.done} of ${run.targets} sent; ` +
      'create a new run with the same template to reach the rest (leads already sent it are excluded)',
  };
}
