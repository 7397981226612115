// Email validity flag (SPEC §4, first seed): consecutive delivery errors turn an address invalid.
// Pure: safe to import from workflow code.

import { PERMANENT_INVALIDATING_CODES } from './delivery-codes';
import type { SmtpOutcome } from './smtp-classification';

/** First seed: three errors in a row; configurable (the second seed quarantines at 5). */
export const DEFAULT_INVALID_AFTER_CONSECUTIVE_ERRORS = 3;

export interface ValidityState {
  valid: boolean;
  consecutiveErrors: number;
}

export type ValidityOutcome = Pick<SmtpOutcome, 'result' | 'code' | 'invalidatesAtOnce' | 'policyBlock'>;

/**
 * The state after one outcome:
 * - a delivery resets the counter (it does not make an invalid address valid: only a user does that);
 * - a pre-error was never sent, and a policy block is ours, not the recipient's: no change;
 * - 42521 / 42551 / 42553 invalidate at once (the same send would fail again);
 * - any other error counts, and the threshold-th consecutive one invalidates.
 */
export function applyOutcomeToValidity(
  state: ValidityState,
  outcome: ValidityOutcome,
  threshold: number = DEFAULT_INVALID_AFTER_CONSECUTIVE_ERRORS,
): ValidityState {
  if (!Number.isSafeInteger(threshold) || threshold < 1) {
    throw new RangeError(`threshold must be an integer of at least 1, got ${threshold}`);
  }
  if (outcome.result === 'sent') return { valid: state.valid, consecutiveErrors: 0 };
  if (outcome.result === 'pre_error' || outcome.policyBlock) return { ...state };
  const consecutiveErrors = state.consecutiveErrors + 1;
  const atOnce = outcome.invalidatesAtOnce || PERMANENT_INVALIDATING_CODES.includes(outcome.code);
  return { valid: state.valid && !atOnce && consecutiveErrors < threshold, consecutiveErrors };
}

/** A user sets the flag back to valid: the counter restarts from 0 (SPEC §4). */
export function restoreValidity(): ValidityState {
  return { valid: true, consecutiveErrors: 0 };
}
