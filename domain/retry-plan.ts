// What happens after one attempt (SPEC 4): hard errors are final; soft and
// ignored errors wait for the next wave of their reason's schedule; a schedule
// that runs out turns the send into its exhausted code (41606).
import { makeDeliveryOutcome, type SmtpOutcome } from './smtp-classification';
import { nextRetryDelay, retryScheduleFor, type RetrySchedule } from './retry-schedule';

export interface RetryPlan {
  outcome: SmtpOutcome;
  /** Milliseconds until the next attempt; null = this attempt is the send's last. */
  retryInMs: number | null;
}

export function planAfterAttempt(
  outcome: SmtpOutcome,
  attemptsSoFar: number,
  overrides?: Partial<Record<string, RetrySchedule>>,
): RetryPlan {
  if (outcome.result !== 'error' || !outcome.retryable) return { outcome, retryInMs: null };
  const delay = nextRetryDelay(outcome.reason, attemptsSoFar, overrides);
  if (delay !== null) return { outcome, retryInMs: delay };
  const schedule = retryScheduleFor(outcome.reason, overrides);
  if (schedule.delaysMs.length === 0) return { outcome, retryInMs: null };
  return {
    outcome: makeDeliveryOutcome({
      code: schedule.exhaustedCode,
      errorType: outcome.errorType,
      reason: outcome.reason,
      retryable: false,
      remote: `no delivery after ${attemptsSoFar} attempts; last: ${outcome.detail}`,
    }),
    retryInMs: null,
  };
}
