import { ERROR_REASON_NAMES, ERROR_REASONS } from '../../domain/error-reasons';
import {
  DEFAULT_RETRY_SCHEDULE,
  RETRY_SCHEDULES,
  nextRetryDelay,
  parseRetrySchedules,
  retryScheduleFor,
  retryWindowMs,
  type RetrySchedule,
} from '../../domain/retry-schedule';
import { SMTP_CLASSIFICATION_RULES, makeDeliveryOutcome } from '../../domain/smtp-classification';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('default schedule (second seed)', () => {
  test('5 retries one hour apart, then once a day for 4 days, then 41606', () => {
    expect(DEFAULT_RETRY_SCHEDULE.delaysMs).toEqual([HOUR, HOUR, HOUR, HOUR, HOUR, DAY, DAY, DAY, DAY]);
    expect(DEFAULT_RETRY_SCHEDULE.exhaustedCode).toBe(41606);
    expect(retryWindowMs(DEFAULT_RETRY_SCHEDULE)).toBe(5 * HOUR + 4 * DAY);
  });

  test.each([
    [1, HOUR],
    [5, HOUR],
    [6, DAY],
    [9, DAY],
    [10, null],
    [100, null],
  ])('after attempt %p of a mailbox-full send the next wait is %p', (attempts, expected) => {
    expect(nextRetryDelay('mailbox_full', attempts)).toBe(expected);
  });

  test('an outcome without a reason follows the default', () => {
    expect(retryScheduleFor(null)).toBe(DEFAULT_RETRY_SCHEDULE);
    expect(nextRetryDelay(null, 1)).toBe(HOUR);
  });

  test('the schedule cannot be changed by a caller', () => {
    expect(Object.isFrozen(DEFAULT_RETRY_SCHEDULE)).toBe(true);
    expect(Object.isFrozen(DEFAULT_RETRY_SCHEDULE.delaysMs)).toBe(true);
  });
});

describe('schedules per reason', () => {
  test('an unreachable server is retried about every 30 minutes for about 24 hours (first seed), then 41606', () => {
    const unreachable = retryScheduleFor('unreachable');
    expect(unreachable.delaysMs.every((delay) => delay === 30 * MINUTE)).toBe(true);
    expect(retryWindowMs(unreachable)).toBe(24 * HOUR);
    expect(unreachable.exhaustedCode).toBe(41606);
    expect(nextRetryDelay('unreachable', 48)).toBe(30 * MINUTE);
    expect(nextRetryDelay('unreachable', 49)).toBeNull();
  });

  test.each(
    ERROR_REASON_NAMES.filter((reason) => ERROR_REASONS[reason].types.every((type) => type === 'hard')),
  )('hard-only reason %s is never retried', (reason) => {
    expect(nextRetryDelay(reason, 1)).toBeNull();
  });

  test('every outcome the classification retries has at least one retry scheduled', () => {
    for (const rule of SMTP_CLASSIFICATION_RULES) {
      const outcome = makeDeliveryOutcome(rule);
      if (outcome.retryable)
        expect([rule.id, nextRetryDelay(outcome.reason, 1)]).toEqual([rule.id, expect.any(Number)]);
    }
  });

  test('every built-in schedule is valid by the same rules as user input', () => {
    expect(parseRetrySchedules({ ...RETRY_SCHEDULES, '*': DEFAULT_RETRY_SCHEDULE }).ok).toBe(true);
  });

  test('attempts are counted from 1 (the first send)', () => {
    expect(() => nextRetryDelay('mailbox_full', 0)).toThrow(RangeError);
    expect(() => nextRetryDelay('mailbox_full', 1.5)).toThrow(RangeError);
  });
});

describe('overrides', () => {
  const every10Minutes: RetrySchedule = { delaysMs: [10 * MINUTE, 10 * MINUTE], exhaustedCode: 41607 };
  const daily: RetrySchedule = { delaysMs: [DAY], exhaustedCode: 41606 };

  test('an override for a reason replaces its schedule', () => {
    expect(retryScheduleFor('unreachable', { unreachable: every10Minutes })).toBe(every10Minutes);
    expect(nextRetryDelay('unreachable', 3, { unreachable: every10Minutes })).toBeNull();
  });

  test("'*' replaces the default, not the schedules a reason carries", () => {
    expect(retryScheduleFor('mailbox_full', { '*': daily })).toBe(daily);
    expect(retryScheduleFor(null, { '*': daily })).toBe(daily);
    expect(retryScheduleFor('unreachable', { '*': daily })).toBe(RETRY_SCHEDULES.unreachable);
    expect(nextRetryDelay('unknown_user', 1, { '*': daily })).toBeNull();
  });
});

describe('parseRetrySchedules', () => {
  test('accepts schedules keyed by reason or "*", defaulting exhaustedCode to 41606', () => {
    const result = parseRetrySchedules({
      mailbox_full: { delaysMs: [HOUR, 0] },
      '*': { delaysMs: [], exhaustedCode: 41607 },
    });
    expect(result).toEqual({
      ok: true,
      value: {
        mailbox_full: { delaysMs: [HOUR, 0], exhaustedCode: 41606 },
        '*': { delaysMs: [], exhaustedCode: 41607 },
      },
    });
  });

  test("the parsed schedule does not share the caller's array", () => {
    const delays = [HOUR];
    const result = parseRetrySchedules({ refused: { delaysMs: delays } });
    delays.push(DAY);
    expect(result.ok && result.value.refused?.delaysMs).toEqual([HOUR]);
  });

  test.each<[string, unknown, RegExp]>([
    ['not an object', [1, 2], /retry schedules must be an object keyed by error reason, got \[1,2\]/],
    ['null', null, /must be an object keyed by error reason, got null/],
    [
      'an unknown reason',
      { user_unknown: { delaysMs: [1] } },
      /"user_unknown": unknown error reason \(expected "\*" or one of unknown_user,/,
    ],
    [
      'an inherited name',
      JSON.parse('{"__proto__": {"delaysMs": [1]}}'),
      /"__proto__": unknown error reason/,
    ],
    ['a schedule that is not an object', { refused: [HOUR] }, /refused: must be an object with "delaysMs"/],
    [
      'missing delaysMs',
      { refused: {} },
      /refused\.delaysMs: must be an array of delays in milliseconds, got undefined/,
    ],
    [
      'a negative delay',
      { refused: { delaysMs: [HOUR, -5] } },
      /refused\.delaysMs\[1\]: must be a non-negative integer number of milliseconds, got -5/,
    ],
    [
      'a fractional delay',
      { refused: { delaysMs: [1.5] } },
      /refused\.delaysMs\[0\]: must be a non-negative integer/,
    ],
    ['a delay given as a string', { refused: { delaysMs: ['1h'] } }, /refused\.delaysMs\[0\]: .* got "1h"/],
    [
      'an infinite delay',
      { refused: { delaysMs: [Infinity] } },
      /refused\.delaysMs\[0\]: must be a non-negative integer/,
    ],
    [
      'a delay over 30 days',
      { refused: { delaysMs: [31 * DAY] } },
      /refused\.delaysMs\[0\]: must be at most 2592000000 ms \(30 days\)/,
    ],
    [
      'more than 50 entries',
      { refused: { delaysMs: Array(51).fill(HOUR) } },
      /refused\.delaysMs: at most 50 retries, got 51/,
    ],
    [
      'an exhausted code that is not final',
      { refused: { delaysMs: [HOUR], exhaustedCode: 42550 } },
      /refused\.exhaustedCode: must be a final delivery code \(41606 or 41607\), got 42550/,
    ],
    [
      'an unknown field',
      { refused: { delaysMs: [HOUR], delays: [1] } },
      /refused\.delays: unknown field \(allowed: delaysMs, exhaustedCode\)/,
    ],
  ])('rejects %s, naming the field', (_name, input, message) => {
    const result = parseRetrySchedules(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(message);
  });

  test('reports every problem at once', () => {
    const result = parseRetrySchedules({
      bogus: {},
      refused: { delaysMs: [-1] },
      mailbox_full: { delaysMs: [HOUR] },
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.split('; ')).toHaveLength(2);
      expect(result.error).toContain('"bogus"');
      expect(result.error).toContain('refused.delaysMs[0]');
    }
  });
});
