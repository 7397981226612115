// Retry policy per error reason (SPEC §4), as data. The workflow sleeps on durable Temporal timers for these
// delays; whether an outcome is retried at all is DeliveryOutcome.retryable (hard errors never are).
// Pure: safe to import from workflow code.

import { DELIVERY_CODES, DeliveryCode } from './delivery-codes';
import { ERROR_REASON_NAMES, isErrorReason, type ErrorReason } from './error-reasons';

export interface RetrySchedule {
  /** delaysMs[n - 1] is the wait after attempt n before attempt n + 1; no entry left means give up. */
  delaysMs: readonly number[];
  /** Recorded when the schedule runs out without a delivery (seed: 41606). */
  exhaustedCode: number;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** Key of an override that replaces DEFAULT_RETRY_SCHEDULE (like the `*` domain of MX rules). */
export const DEFAULT_SCHEDULE_KEY = '*';
export const MAX_RETRIES_PER_SCHEDULE = 50;
export const MAX_RETRY_DELAY_MS = 30 * DAY_MS;

function schedule(delaysMs: readonly number[]): RetrySchedule {
  return Object.freeze({
    delaysMs: Object.freeze([...delaysMs]),
    exhaustedCode: DeliveryCode.RetryPeriodExpired,
  });
}

function repeat(delayMs: number, times: number): number[] {
  return Array.from({ length: times }, () => delayMs);
}

// Second seed: 5 retries one hour apart, then once a day for 4 days.
export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = schedule([...repeat(HOUR_MS, 5), ...repeat(DAY_MS, 4)]);

const NO_RETRY = schedule([]);

export const RETRY_SCHEDULES: Readonly<Partial<Record<ErrorReason, RetrySchedule>>> = Object.freeze({
  // First seed: when the receiving server does not answer, its mail server retries about every 30 minutes
  // for about 24 hours, then reports 41606.
  unreachable: schedule(repeat(30 * MINUTE_MS, 48)),
  // Hard-only reasons (SPEC §5) and exclusions made at preparation: nothing to wait for.
  unknown_user: NO_RETRY,
  address_not_specified: NO_RETRY,
  blocklisted: NO_RETRY,
  quarantined: NO_RETRY,
  duplicate: NO_RETRY,
  excluded_by_sql: NO_RETRY,
  excluded_after_arbitration: NO_RETRY,
  poor_quality: NO_RETRY,
  unqualified: NO_RETRY,
  not_eligible: NO_RETRY,
  target_size_limited: NO_RETRY,
  control_address: NO_RETRY,
});

/**
 * The schedule for a reason. Precedence: an override for the reason, the built-in schedule for the reason,
 * an override for '*', DEFAULT_RETRY_SCHEDULE. A null reason (no reason known) takes the default.
 */
export function retryScheduleFor(
  reason: ErrorReason | null,
  overrides?: Partial<Record<string, RetrySchedule>>,
  /** The global default (RETRY_SCHEDULE_DEFAULT); absent: DEFAULT_RETRY_SCHEDULE. */
  globalDefault: RetrySchedule = DEFAULT_RETRY_SCHEDULE,
): RetrySchedule {
  if (reason !== null) {
    const own = overrides?.[reason] ?? RETRY_SCHEDULES[reason];
    if (own) return own;
  }
  return overrides?.[DEFAULT_SCHEDULE_KEY] ?? globalDefault;
}

/**
 * How long to wait before the next attempt, given how many attempts were made (1 = the first send is done);
 * null when the schedule is exhausted and the send ends with the schedule's exhaustedCode.
 */
export function nextRetryDelay(
  reason: ErrorReason | null,
  attemptsSoFar: number,
  overrides?: Partial<Record<string, RetrySchedule>>,
  globalDefault?: RetrySchedule,
): number | null {
  if (!Number.isSafeInteger(attemptsSoFar) || attemptsSoFar < 1) {
    throw new RangeError(`attemptsSoFar must be an integer of at least 1, got ${attemptsSoFar}`);
  }
  return retryScheduleFor(reason, overrides, globalDefault).delaysMs[attemptsSoFar - 1] ?? null;
}

/** Time from the first attempt to the last retry: the retry part of the delivery's validity period. */
export function retryWindowMs(retrySchedule: RetrySchedule): number {
  return retrySchedule.delaysMs.reduce((total, delay) => total + delay, 0);
}

const FINAL_CODES = Object.keys(DELIVERY_CODES)
  .map(Number)
  .filter((code) => DELIVERY_CODES[code]?.class === 'final');

const SCHEDULE_FIELDS = ['delaysMs', 'exhaustedCode'];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (value === undefined) return 'undefined';
  return JSON.stringify(value) ?? typeof value;
}

function parseOne(key: string, value: unknown, errors: string[]): RetrySchedule | null {
  if (!isPlainObject(value)) {
    errors.push(
      `${key}: must be an object with "delaysMs" and optionally "exhaustedCode", got ${describe(value)}`,
    );
    return null;
  }
  const before = errors.length;
  for (const field of Object.keys(value)) {
    if (!SCHEDULE_FIELDS.includes(field)) {
      errors.push(`${key}.${field}: unknown field (allowed: ${SCHEDULE_FIELDS.join(', ')})`);
    }
  }
  const { delaysMs, exhaustedCode = DeliveryCode.RetryPeriodExpired } = value;
  if (!Array.isArray(delaysMs)) {
    errors.push(`${key}.delaysMs: must be an array of delays in milliseconds, got ${describe(delaysMs)}`);
  } else {
    if (delaysMs.length > MAX_RETRIES_PER_SCHEDULE) {
      errors.push(`${key}.delaysMs: at most ${MAX_RETRIES_PER_SCHEDULE} retries, got ${delaysMs.length}`);
    }
    delaysMs.forEach((delay: unknown, index) => {
      if (typeof delay !== 'number' || !Number.isSafeInteger(delay) || delay < 0) {
        errors.push(
          `${key}.delaysMs[${index}]: must be a non-negative integer number of milliseconds, got ${describe(delay)}`,
        );
      } else if (delay > MAX_RETRY_DELAY_MS) {
        errors.push(
          `${key}.delaysMs[${index}]: must be at most ${MAX_RETRY_DELAY_MS} ms (30 days), got ${delay}`,
        );
      }
    });
  }
  if (typeof exhaustedCode !== 'number' || !FINAL_CODES.includes(exhaustedCode)) {
    errors.push(
      `${key}.exhaustedCode: must be a final delivery code (${FINAL_CODES.join(' or ')}), got ${describe(exhaustedCode)}`,
    );
  }
  if (errors.length > before || !Array.isArray(delaysMs) || typeof exhaustedCode !== 'number') return null;
  return Object.freeze({ delaysMs: Object.freeze([...(delaysMs as number[])]), exhaustedCode });
}

/**
 * Validates user-supplied schedules: an object keyed by error reason (or '*' for the default), each
 * { delaysMs: number[], exhaustedCode?: 41606 | 41607 }. Every problem is reported, each naming its field.
 */
export function parseRetrySchedules(
  input: unknown,
): { ok: true; value: Record<string, RetrySchedule> } | { ok: false; error: string } {
  if (!isPlainObject(input)) {
    return {
      ok: false,
      error: `retry schedules must be an object keyed by error reason, got ${describe(input)}`,
    };
  }
  const errors: string[] = [];
  const value: Record<string, RetrySchedule> = {};
  for (const [key, raw] of Object.entries(input)) {
    if (key !== DEFAULT_SCHEDULE_KEY && !isErrorReason(key)) {
      errors.push(
        `${JSON.stringify(key)}: unknown error reason (expected "${DEFAULT_SCHEDULE_KEY}" or one of ${ERROR_REASON_NAMES.join(', ')})`,
      );
      continue;
    }
    const parsed = parseOne(key, raw, errors);
    if (parsed) value[key] = parsed;
  }
  return errors.length > 0 ? { ok: false, error: errors.join('; ') } : { ok: true, value };
}

/**
 * The retry settings of the installation (config: RETRY_SCHEDULE_DEFAULT, DELIVERY_VALIDITY_HOURS);
 * a run's own schedules (its `retrySchedules`) still win over the default.
 */
export interface RetryPolicy {
  /** The schedule of reasons without one of their own; absent: DEFAULT_RETRY_SCHEDULE. */
  defaultSchedule?: RetrySchedule;
  /**
   * The delivery's validity period: no retry is planned later than this after a send's first
   * attempt (by the schedule's own offsets); the send is given up with its schedule's
   * exhaustedCode instead. 0 or absent: as long as the schedule lasts.
   */
  validityMs?: number;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: MINUTE_MS, h: HOUR_MS, d: DAY_MS };
const DELAY_ITEM = /^(?:(\d{1,3})\s*x\s*)?(\d{1,6})\s*([smhd])$/;

/**
 * Reads a schedule written as text (RETRY_SCHEDULE_DEFAULT): comma-separated delays with a unit
 * (s, m, h, d), each optionally repeated (`5x1h`): `5x1h,4x1d` is DEFAULT_RETRY_SCHEDULE; `none`
 * is no retry. Errors name the item that is wrong.
 */
export function parseRetryDelays(
  text: string,
): { ok: true; value: RetrySchedule } | { ok: false; error: string } {
  const trimmed = text.trim();
  if (trimmed === 'none') return { ok: true, value: schedule([]) };
  if (trimmed === '') return { ok: false, error: 'is empty (write `none` for no retries)' };
  const delays: number[] = [];
  for (const raw of trimmed.split(',')) {
    const item = raw.trim();
    const m = DELAY_ITEM.exec(item);
    if (!m) {
      return {
        ok: false,
        error: `"${item}" is not a delay: write a number and a unit s, m, h or d, optionally repeated (5x1h)`,
      };
    }
    const times = m[1] === undefined ? 1 : Number(m[1]);
    const delay = Number(m[2]) * UNIT_MS[m[3]!]!;
    if (times < 1) return { ok: false, error: `"${item}" repeats a delay 0 times` };
    if (delay > MAX_RETRY_DELAY_MS) return { ok: false, error: `"${item}" is longer than 30 days` };
    delays.push(...repeat(delay, times));
  }
  if (delays.length > MAX_RETRIES_PER_SCHEDULE)
    return { ok: false, error: `has ${delays.length} retries, at most ${MAX_RETRIES_PER_SCHEDULE}` };
  return { ok: true, value: schedule(delays) };
}
