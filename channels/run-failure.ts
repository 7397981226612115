// The one way an activity says "this run cannot go on": a non-retryable
// failure whose type is in domain/run-lifecycle's RUN_FAILURE_TYPES, so the
// workflow recognises it and ends the run in error with this message.
import { ApplicationFailure } from '@temporalio/activity';
import type { RunFailureType } from '../domain/run-lifecycle';

export function runCannotProceed(type: RunFailureType, message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, type);
}
