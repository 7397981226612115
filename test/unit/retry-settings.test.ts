// Issue 18: the retry schedule's global default and the delivery's validity
// period are settings (RETRY_SCHEDULE_DEFAULT, DELIVERY_VALIDITY_HOURS) whose
// defaults are today's behaviour; a run's own schedules still win.
import { ConfigError, loadConfig, retryPolicyOf } from '../../config/config';
import { planAfterAttempt } from '../../domain/retry-plan';
import { DEFAULT_RETRY_SCHEDULE, parseRetryDelays } from '../../domain/retry-schedule';
import { classifyTransportError } from '../../domain/smtp-classification';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

const mailboxFull = classifyTransportError({
  code: 'EENVELOPE',
  responseCode: 452,
  response: '452 4.2.2 mailbox full',
  command: 'RCPT TO',
});

describe('the settings as text', () => {
  test('when the default setting is read, then it is the built-in schedule and no validity limit', () => {
    const policy = retryPolicyOf(loadConfig({}));
    expect(policy.defaultSchedule).toEqual(DEFAULT_RETRY_SCHEDULE);
    expect(policy.validityMs).toBe(0);
    for (let attempt = 1; attempt <= 10; attempt++)
      expect(planAfterAttempt(mailboxFull, attempt, undefined, policy)).toEqual(
        planAfterAttempt(mailboxFull, attempt),
      );
  });

  test.each([
    ['30m', [30 * 60_000]],
    ['2x3h, 1d', [3 * HOUR, 3 * HOUR, DAY]],
    ['90s', [90_000]],
    ['none', []],
  ])('when the schedule is written "%s", then its delays are %j', (text, delays) => {
    expect(parseRetryDelays(text)).toEqual({
      ok: true,
      value: expect.objectContaining({ delaysMs: delays }),
    });
  });

  test.each([
    ['RETRY_SCHEDULE_DEFAULT', 'soon', /RETRY_SCHEDULE_DEFAULT "soon" is not a delay/],
    ['RETRY_SCHEDULE_DEFAULT', '1h,,1d', /RETRY_SCHEDULE_DEFAULT "" is not a delay/],
    ['RETRY_SCHEDULE_DEFAULT', '', /RETRY_SCHEDULE_DEFAULT is empty \(write `none` for no retries\)/],
    ['RETRY_SCHEDULE_DEFAULT', '31d', /RETRY_SCHEDULE_DEFAULT "31d" is longer than 30 days/],
    ['RETRY_SCHEDULE_DEFAULT', '51x1m', /RETRY_SCHEDULE_DEFAULT has 51 retries, at most 50/],
    ['RETRY_SCHEDULE_DEFAULT', '0x1h', /RETRY_SCHEDULE_DEFAULT "0x1h" repeats a delay 0 times/],
    ['DELIVERY_VALIDITY_HOURS', '-1', /DELIVERY_VALIDITY_HOURS must be a non-negative integer, got "-1"/],
    ['DELIVERY_VALIDITY_HOURS', '5d', /DELIVERY_VALIDITY_HOURS must be a non-negative integer, got "5d"/],
    ['DELIVERY_VALIDITY_HOURS', '9000', /DELIVERY_VALIDITY_HOURS must be at most 8760/],
  ])('when %s is "%s", then the start fails naming it', (env, value, message) => {
    expect(() => loadConfig({ [env]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [env]: value })).toThrow(message);
  });
});

describe('retry plans under the settings', () => {
  test('when the global default is changed, then reasons without a schedule follow it and a run override still wins', () => {
    const policy = retryPolicyOf({ retryScheduleDefault: '2x3h', deliveryValidityHours: 0 });
    expect(planAfterAttempt(mailboxFull, 1, undefined, policy).retryInMs).toBe(3 * HOUR);
    expect(planAfterAttempt(mailboxFull, 2, undefined, policy).retryInMs).toBe(3 * HOUR);
    expect(planAfterAttempt(mailboxFull, 3, undefined, policy)).toMatchObject({
      retryInMs: null,
      outcome: { code: 41606 },
    });
    const own = { '*': { delaysMs: [1000], exhaustedCode: 41606 } };
    expect(planAfterAttempt(mailboxFull, 1, own, policy).retryInMs).toBe(1000);
  });

  test('when a retry would come after the validity period, then the send is given up with 41606 saying so', () => {
    const policy = retryPolicyOf({ retryScheduleDefault: '5x1h,4x1d', deliveryValidityHours: 26 });
    // Retries at 1..5 h and 29 h: the sixth (5 h + 1 d) is past 26 h.
    expect(planAfterAttempt(mailboxFull, 5, undefined, policy).retryInMs).toBe(HOUR);
    const last = planAfterAttempt(mailboxFull, 6, undefined, policy);
    expect(last.retryInMs).toBeNull();
    expect(last.outcome).toMatchObject({ result: 'error', code: 41606, retryable: false });
    expect(last.outcome.detail).toMatch(/validity period \(26 h\) after 6 attempts; last: .*mailbox full/);
  });
});
