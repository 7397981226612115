import { planAfterAttempt } from '../../domain/retry-plan';
import { classifyTransportError } from '../../domain/smtp-classification';

const mailboxFull = classifyTransportError({
  code: 'EENVELOPE',
  responseCode: 452,
  response: '452 4.2.2 mailbox full',
  command: 'RCPT TO',
});
const unknownUser = classifyTransportError({
  code: 'EENVELOPE',
  responseCode: 550,
  response: '550 5.1.1 user unknown',
  command: 'RCPT TO',
});

describe('after an attempt', () => {
  test('when a hard error happens, then there is no retry and the code stays', () => {
    const plan = planAfterAttempt(unknownUser, 1);
    expect(plan.retryInMs).toBeNull();
    expect(plan.outcome.code).toBe(42550);
  });

  test.each([
    [1, 3600_000],
    [5, 3600_000],
    [6, 86_400_000],
    [9, 86_400_000],
  ])(
    'when a mailbox-full error follows attempt %i, then the next wave is %i ms later (default schedule)',
    (attempt, delay) => {
      expect(planAfterAttempt(mailboxFull, attempt).retryInMs).toBe(delay);
    },
  );

  test('when the default schedule is exhausted, then the send ends with 41606 keeping the last reply', () => {
    const plan = planAfterAttempt(mailboxFull, 10);
    expect(plan.retryInMs).toBeNull();
    expect(plan.outcome.code).toBe(41606);
    expect(plan.outcome.result).toBe('error');
    expect(plan.outcome.detail).toContain('452 4.2.2 mailbox full');
  });

  test('when a run overrides the schedule of a reason, then its delays apply', () => {
    const overrides = { mailbox_full: { delaysMs: [1000, 2000], exhaustedCode: 41607 } };
    expect(planAfterAttempt(mailboxFull, 1, overrides).retryInMs).toBe(1000);
    expect(planAfterAttempt(mailboxFull, 2, overrides).retryInMs).toBe(2000);
    expect(planAfterAttempt(mailboxFull, 3, overrides).outcome.code).toBe(41607);
  });

  test('when a delivery succeeds, then nothing is planned', () => {
    const ok = classifyTransportError({ responseCode: 250, response: '250 ok' });
    expect(planAfterAttempt(ok, 1)).toEqual({ outcome: ok, retryInMs: null });
  });
});
