// Email validity flag and address status (SPEC 4): consecutive delivery
// errors turn a lead's email invalid and quarantine its address. The rules are
// data (domain/rule-expr.ts): db/run-queries.ts applyValidity compiles them
// into its set-based statements, nextLeadValidity and nextAddressStatus read
// them in TypeScript, and test/integration/rules-differential.test.ts holds
// the two to the same answers. Pure: safe to import from workflow code.

import type { ErrorReason } from './error-reasons';
import {
  and,
  before,
  choose,
  coalesce,
  compare,
  evaluateRule,
  input,
  literal,
  not,
  oneOf,
  or,
  plus,
  type Rule,
} from './rule-expr';

/** First seed: three errors in a row turn the lead's email flag invalid; configurable (INVALID_AFTER_ERRORS). */
export const DEFAULT_INVALID_AFTER_CONSECUTIVE_ERRORS = 3;

/**
 * Second seed (the campaign manual): an address is quarantined when its error
 * count reaches 5; configurable apart from the lead's flag (QUARANTINE_AFTER_ERRORS).
 */
export const DEFAULT_QUARANTINE_AFTER_CONSECUTIVE_ERRORS = 5;

/** The two thresholds: the lead's channel flag, and the address's quarantine. */
export interface ValidityThresholds {
  invalidAfterErrors: number;
  /** Default DEFAULT_QUARANTINE_AFTER_CONSECUTIVE_ERRORS. */
  quarantineAfterErrors?: number;
}

/** Both thresholds from a setting: a bare number is the lead's flag threshold alone. */
export function validityThresholds(t: number | ValidityThresholds): Required<ValidityThresholds> {
  const v = typeof t === 'number' ? { invalidAfterErrors: t } : t;
  return {
    invalidAfterErrors: v.invalidAfterErrors,
    quarantineAfterErrors: v.quarantineAfterErrors ?? DEFAULT_QUARANTINE_AFTER_CONSECUTIVE_ERRORS,
  };
}

/**
 * The reasons that quarantine an address at once when a reply classifies them
 * hard (the campaign manual): unknown user (the address does not exist) and
 * an account closed for good. The same reasons classified soft, or an
 * undefined reply, count toward the threshold like any other error.
 */
export const QUARANTINE_AT_ONCE_REASONS: readonly ErrorReason[] = ['unknown_user', 'invalid_account'];

/** Whether a qualified error quarantines its address at once. */
export function quarantinesAtOnce(errorType: string | null | undefined, reason: string | null | undefined) {
  return (
    errorType === 'hard' &&
    (QUARANTINE_AT_ONCE_REASONS as readonly (string | null | undefined)[]).includes(reason)
  );
}

/** What one recorded outcome tells the validity rules. */
export interface ValidityEvidence {
  /** Delivered (40000, 40001): the counter restarts from 0. */
  delivered: boolean;
  /** An error that counts toward the consecutive-error counter. */
  counts: boolean;
  /** A permanent error (42521, 42551, 42553): invalid at once. */
  invalidNow: boolean;
  /** The address is quarantined at once: a permanent error, or a hard unknown user or closed account. */
  quarantineNow: boolean;
}

/**
 * A message's error counts once toward the lead's consecutive errors (its
 * first attempt), never its retries; a pre-error was never sent, and a policy
 * block is the stream's fault, not the recipient's (SPEC 10). An `undefined`
 * error (a reply text no rule knows yet) counts against nobody until it is
 * qualified (SPEC 10, second manual): requalifying applies it then
 * (db/bounce-rule-queries.ts requalify).
 */
export function validityEvidence(
  outcome: {
    result: 'sent' | 'error' | 'pre_error';
    policyBlock: boolean;
    invalidatesAtOnce: boolean;
    errorType?: string | null;
    reason?: string | null;
  },
  attempt: number,
): ValidityEvidence {
  const qualifiedError = outcome.result === 'error' && outcome.errorType !== 'undefined';
  const invalidNow = qualifiedError && outcome.invalidatesAtOnce;
  return {
    delivered: outcome.result === 'sent',
    counts: qualifiedError && !outcome.policyBlock && attempt <= 1,
    invalidNow,
    quarantineNow:
      invalidNow ||
      (qualifiedError && !outcome.policyBlock && quarantinesAtOnce(outcome.errorType, outcome.reason)),
  };
}

/**
 * What an SMS outcome tells its phone number's status (issue 18: numbers are
 * quarantined like email addresses). A receipt's delivery resets the count (a
 * submit the SMSC accepted is not a delivery yet); hard and soft errors count,
 * an ignored one (handset off or out of range) and an undefined one do not: they
 * say nothing against the number. Hard unknown subscriber or closed account
 * quarantines at once. SMS has no lead flag: `invalidNow` stays false.
 */
export function phoneEvidence(
  outcome: { result: string; errorType?: string | null; reason?: string | null; policyBlock?: boolean },
  attempt: number,
): ValidityEvidence {
  const counted =
    outcome.result === 'error' &&
    (outcome.errorType === 'hard' || outcome.errorType === 'soft') &&
    !outcome.policyBlock;
  return {
    delivered: outcome.result === 'delivered',
    counts: counted && attempt <= 1,
    invalidNow: false,
    quarantineNow: counted && quarantinesAtOnce(outcome.errorType, outcome.reason),
  };
}

/** The evidence of one lead (or one address) within a recorded chunk, taken together. */
export interface ValidityChunk {
  /** Any delivery in the chunk: it wins over the chunk's errors. */
  delivered: boolean;
  /** How many counting errors. */
  errors: number;
  invalidNow: boolean;
  /** The address is quarantined at once (missing: as `invalidNow`). */
  quarantineNow?: boolean;
}

export function summarizeEvidence(evidence: readonly ValidityEvidence[]): ValidityChunk {
  return {
    delivered: evidence.some((e) => e.delivered),
    errors: evidence.filter((e) => e.counts).length,
    invalidNow: evidence.some((e) => e.invalidNow),
    quarantineNow: evidence.some((e) => e.quarantineNow),
  };
}

const delivered = input('delivered');
const errors = input('errors');
const invalidNow = input('invalidNow');
const threshold = input('threshold');

/**
 * The lead's flag and counter after a chunk. Inputs: `valid`,
 * `consecutiveErrors` (the lead's), `delivered`, `errors`, `invalidNow` (the
 * chunk's), `threshold`.
 * - a delivery resets the counter, and does not make an invalid address valid (only a user does);
 * - counted errors add up, and the threshold-th consecutive one invalidates;
 * - a permanent error invalidates at once.
 */
export const LEAD_VALIDITY_RULES: { consecutiveErrors: Rule; valid: Rule; changes: Rule } = {
  consecutiveErrors: choose(
    [{ when: delivered, then: literal(0) }],
    plus(input('consecutiveErrors'), errors),
  ),
  valid: choose(
    [{ when: delivered, then: input('valid') }],
    and(input('valid'), not(invalidNow), compare(plus(input('consecutiveErrors'), errors), '<', threshold)),
  ),
  /** Whether the chunk changes the lead at all (only those rows are written). */
  changes: or(
    and(delivered, compare(input('consecutiveErrors'), '<>', literal(0))),
    compare(errors, '>', literal(0)),
    invalidNow,
  ),
};

export interface ValidityState {
  valid: boolean;
  consecutiveErrors: number;
}

export function nextLeadValidity(
  state: ValidityState,
  chunk: ValidityChunk,
  invalidAfterErrors: number = DEFAULT_INVALID_AFTER_CONSECUTIVE_ERRORS,
): ValidityState {
  checkThreshold(invalidAfterErrors);
  const inputs = { ...state, ...chunk, threshold: invalidAfterErrors };
  if (evaluateRule(LEAD_VALIDITY_RULES.changes, inputs) !== true) return { ...state };
  return {
    valid: evaluateRule(LEAD_VALIDITY_RULES.valid, inputs) as boolean,
    consecutiveErrors: evaluateRule(LEAD_VALIDITY_RULES.consecutiveErrors, inputs) as number,
  };
}

/**
 * Statuses a delivery clears back to valid; blocklisted and allowlisted are a
 * user's decision and stay (an allowlisted address's count restarts, see
 * nextAddressStatus).
 */
export const STATUSES_CLEARED_BY_DELIVERY: readonly string[] = ['erroneous', 'quarantined'];

const quarantineNow = input('quarantineNow');

/**
 * The address's status after a chunk with errors. Inputs: `priorStatus` and
 * `priorErrors` (null when the address has no status row yet), `errors`,
 * `quarantineNow`, `threshold` (the quarantine threshold, apart from the
 * lead's). Blocklisted and allowlisted stay; the threshold of errors, counted
 * since the last delivery, or an error that quarantines at once quarantines.
 */
export const ADDRESS_STATUS_RULES: { recorded: Rule; status: Rule } = {
  /** Whether the chunk writes the address's row (errors without a delivery). */
  recorded: and(not(delivered), or(compare(errors, '>', literal(0)), quarantineNow)),
  status: choose(
    [
      { when: oneOf(input('priorStatus'), ['blocklisted', 'allowlisted']), then: input('priorStatus') },
      {
        when: or(
          quarantineNow,
          compare(plus(coalesce(input('priorErrors'), literal(0)), errors), '>=', threshold),
        ),
        then: literal('quarantined'),
      },
    ],
    literal('erroneous'),
  ),
};

export interface AddressStatusState {
  status: string;
  errorCount: number;
}

/**
 * The address's status row after a chunk; null when it has none and the chunk
 * writes none. The threshold is the quarantine's (QUARANTINE_AFTER_ERRORS).
 */
export function nextAddressStatus(
  prior: AddressStatusState | null,
  chunk: ValidityChunk,
  quarantineAfterErrors: number = DEFAULT_QUARANTINE_AFTER_CONSECUTIVE_ERRORS,
): AddressStatusState | null {
  checkThreshold(quarantineAfterErrors);
  if (chunk.delivered) {
    if (prior && STATUSES_CLEARED_BY_DELIVERY.includes(prior.status))
      return { status: 'valid', errorCount: 0 };
    // Errors are counted since the last delivery, an allowlisted address's too.
    if (prior?.status === 'allowlisted') return { status: 'allowlisted', errorCount: 0 };
    return prior && { ...prior };
  }
  const inputs = {
    delivered: chunk.delivered,
    errors: chunk.errors,
    quarantineNow: chunk.quarantineNow ?? chunk.invalidNow,
    priorStatus: prior?.status ?? null,
    priorErrors: prior?.errorCount ?? null,
    threshold: quarantineAfterErrors,
  };
  if (evaluateRule(ADDRESS_STATUS_RULES.recorded, inputs) !== true) return prior && { ...prior };
  return {
    status: evaluateRule(ADDRESS_STATUS_RULES.status, inputs) as string,
    errorCount: (prior?.errorCount ?? 0) + chunk.errors,
  };
}

/** Mailbox full is soft and temporary: after this many days without a new error the box is presumed emptied (SPEC 4). */
export const MAILBOX_FULL_RELEASE_DAYS = 30;

export const MAILBOX_FULL_REASON: ErrorReason = 'mailbox_full';

/**
 * The rules of the mailbox-full release (the daily clean-up).
 * - `address`: an erroneous or quarantined address whose last error was
 *   mailbox full, longer ago than `days` before `now`, returns to valid with a
 *   zero count. Inputs: `reason`, `status`, `lastErrorAt`, `now`, `days`.
 * - `lead`: a lead of a released address turns valid with a zero counter,
 *   unless another kind of error happened since its last delivery (an address
 *   also refused as unknown user stays invalid). Inputs: `valid`,
 *   `consecutiveErrors`, `otherErrorSinceDelivery`.
 */
export const MAILBOX_FULL_RELEASE_RULES: { address: Rule; lead: Rule } = {
  address: and(
    compare(input('reason'), '=', literal(MAILBOX_FULL_REASON)),
    oneOf(input('status'), STATUSES_CLEARED_BY_DELIVERY),
    compare(input('lastErrorAt'), '<', before(input('now'), input('days'), 'days')),
  ),
  lead: and(
    or(not(input('valid')), compare(input('consecutiveErrors'), '>', literal(0))),
    not(input('otherErrorSinceDelivery')),
  ),
};

export function mailboxFullReleased(
  address: { reason: string | null; status: string; lastErrorAt: Date | null },
  now: Date,
  days: number = MAILBOX_FULL_RELEASE_DAYS,
): boolean {
  return (
    evaluateRule(MAILBOX_FULL_RELEASE_RULES.address, {
      reason: address.reason,
      status: address.status,
      lastErrorAt: address.lastErrorAt?.getTime() ?? null,
      now: now.getTime(),
      days,
    }) === true
  );
}

/** Whether a lead of a released address turns valid again (it then has a zero counter). */
export function leadReleasedWithMailbox(state: ValidityState, otherErrorSinceDelivery: boolean): boolean {
  return evaluateRule(MAILBOX_FULL_RELEASE_RULES.lead, { ...state, otherErrorSinceDelivery }) === true;
}

function checkThreshold(threshold: number) {
  if (!Number.isSafeInteger(threshold) || threshold < 1) {
    throw new RangeError(`threshold must be an integer of at least 1, got ${threshold}`);
  }
}
