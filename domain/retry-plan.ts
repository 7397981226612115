// What happens after one attempt (SPEC 4): hard errors are final; soft and
// ignored errors wait for the next wave of their reason's schedule; a schedule
// that runs out turns the send into its exhausted code (41606), and so does a
// retry that would come after the delivery's validity period (RetryPolicy).
import { makeDeliveryOutcome, type SmtpOutcome } from './smtp-classification';
import { retryScheduleFor, type RetryPolicy, type RetrySchedule } from './retry-schedule';

export interface RetryPlan {
  outcome: SmtpOutcome;
  /** Milliseconds until the next attempt; null = this attempt is the send's last. */
  retryInMs: number | null;
}

export function planAfterAttempt(
  outcome: SmtpOutcome,
  attemptsSoFar: number,
  overrides?: Partial<Record<string, RetrySchedule>>,
  policy: RetryPolicy = {},
): RetryPlan {
  if (outcome.result !== 'error' || !outcome.retryable) return { outcome, retryInMs: null };
  if (!Number.isSafeInteger(attemptsSoFar) || attemptsSoFar < 1) {
    throw new RangeError(`attemptsSoFar must be an integer of at least 1, got ${attemptsSoFar}`);
  }
  const schedule = retryScheduleFor(outcome.reason, overrides, policy.defaultSchedule);
  const delay = schedule.delaysMs[attemptsSoFar - 1] ?? null;
  // When the next attempt would come, counted from the first one along the schedule.
  const offset = schedule.delaysMs.slice(0, attemptsSoFar).reduce((total, d) => total + d, 0);
  const validityMs = policy.validityMs ?? 0;
  const expired = delay !== null && validityMs > 0 && offset > validityMs;
  if (delay !== null && !expired) return { outcome, retryInMs: delay };
  if (schedule.delaysMs.length === 0) return { outcome, retryInMs: null };
  const why = expired
    ? `no delivery within the delivery's validity period (${formatHours(validityMs)}) after ${attemptsSoFar} attempts`
    : `no delivery after ${attemptsSoFar} attempts`;
  return {
    outcome: makeDeliveryOutcome({
      code: schedule.exhaustedCode,
      errorType: outcome.errorType,
      reason: outcome.reason,
      retryable: false,
      remote: `${why}; last: ${outcome.detail}`,
    }),
    retryInMs: null,
  };
}

function formatHours(ms: number): string {
  const hours = ms / 3_600_000;
  return `${Number.isInteger(hours) ? hours : hours.toFixed(2)} h`;
}
