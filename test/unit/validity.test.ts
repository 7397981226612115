import {
  classifyAcceptedMessage,
  classifySmtpReply,
  classifyTransportError,
  preErrorMissingAddress,
} from '../../domain/smtp-classification';
import {
  DEFAULT_INVALID_AFTER_CONSECUTIVE_ERRORS,
  nextAddressStatus,
  nextLeadValidity,
  phoneEvidence,
  summarizeEvidence,
  validityEvidence,
  type ValidityState,
} from '../../domain/validity';

type Outcome = Parameters<typeof validityEvidence>[0];
const fresh = (): ValidityState => ({ valid: true, consecutiveErrors: 0 });
/** One outcome recorded on its own (a chunk of one), as the first attempt unless told. */
const applyOutcomeToValidity = (state: ValidityState, outcome: Outcome, threshold?: number, attempt = 1) =>
  nextLeadValidity(state, summarizeEvidence([validityEvidence(outcome, attempt)]), threshold);
const apply = (outcomes: readonly Outcome[], start = fresh(), threshold?: number): ValidityState =>
  outcomes.reduce((state, outcome) => applyOutcomeToValidity(state, outcome, threshold), start);

const delivered = classifyAcceptedMessage();
const deliveredAfterTimeout = classifyTransportError({ code: 'ETIMEDOUT', command: 'DATA' });
const mailboxFull = classifySmtpReply({
  response: '452-4.2.2 The email account that you tried to reach is over quota.',
});
const unknownUser = classifySmtpReply({ response: '550 5.1.1 User unknown' });
// A fault of our own relay: never the recipient's (domain/relay-faults.ts).
const relayRefusedConnection = classifyTransportError({
  code: 'ESOCKET',
  command: 'CONN',
  message: 'connect ECONNREFUSED',
});
const temporaryFailure = classifySmtpReply({ response: '451 4.3.0 Temporary local problem' });
const spamBlock = classifySmtpReply({ response: '550 5.7.1 Message rejected as spam' });
const dmarcFailure = classifySmtpReply({ response: '550 5.7.26 Unauthenticated email is not accepted' });
const missingAddress = preErrorMissingAddress();

describe('consecutive errors', () => {
  test('the default threshold is 3', () => {
    expect(DEFAULT_INVALID_AFTER_CONSECUTIVE_ERRORS).toBe(3);
  });

  test('when a soft bounce repeats three times, the address turns invalid', () => {
    const afterTwo = apply([mailboxFull, mailboxFull]);
    expect(afterTwo).toEqual({ valid: true, consecutiveErrors: 2 });
    expect(apply([mailboxFull], afterTwo)).toEqual({ valid: false, consecutiveErrors: 3 });
  });

  test('any mix of delivery errors counts toward the threshold', () => {
    expect(apply([temporaryFailure, unknownUser, mailboxFull])).toEqual({
      valid: false,
      consecutiveErrors: 3,
    });
  });

  test('a fault of our relay (connection refused) never counts, however often it repeats', () => {
    expect(apply([relayRefusedConnection, relayRefusedConnection, relayRefusedConnection])).toEqual({
      valid: true,
      consecutiveErrors: 0,
    });
  });

  test('when a delivery comes between errors, the counter restarts from 0', () => {
    expect(apply([mailboxFull, mailboxFull, delivered, mailboxFull, mailboxFull])).toEqual({
      valid: true,
      consecutiveErrors: 2,
    });
  });

  test('a delivery deemed complete after a DATA timeout (40001) also resets the counter', () => {
    expect(apply([mailboxFull, mailboxFull, deliveredAfterTimeout])).toEqual({
      valid: true,
      consecutiveErrors: 0,
    });
  });

  test('the threshold is configurable (the second seed quarantines at 5)', () => {
    const four = apply([mailboxFull, mailboxFull, mailboxFull, mailboxFull], fresh(), 5);
    expect(four.valid).toBe(true);
    expect(applyOutcomeToValidity(four, mailboxFull, 5)).toEqual({ valid: false, consecutiveErrors: 5 });
  });

  test('a threshold below 1 is refused', () => {
    expect(() => applyOutcomeToValidity(fresh(), mailboxFull, 0)).toThrow(RangeError);
  });
});

describe('permanent errors', () => {
  test.each([
    ['42521 refused by the receiving server', '550 5.7.1 RESOLVER.RST.NotAuthorized; not authorized'],
    ['42551 user not local', '551 User not local; please try <forward@example.net>'],
    ['42553 mailbox name not allowed', '553 5.1.3 Bad recipient address syntax'],
  ])('%s invalidates the address after a single occurrence', (_name, response) => {
    expect(applyOutcomeToValidity(fresh(), classifySmtpReply({ response }))).toEqual({
      valid: false,
      consecutiveErrors: 1,
    });
  });
});

describe('what does not count', () => {
  test("a policy block (spam, reputation, sender authentication) is not the recipient's fault: no change", () => {
    const state = { valid: true, consecutiveErrors: 2 };
    expect(applyOutcomeToValidity(state, spamBlock)).toEqual(state);
    expect(applyOutcomeToValidity(state, dmarcFailure)).toEqual(state);
  });

  test("a retry's error does not count again: a message counts once, at its first attempt", () => {
    const state = { valid: true, consecutiveErrors: 2 };
    expect(applyOutcomeToValidity(state, mailboxFull, undefined, 2)).toEqual(state);
    expect(applyOutcomeToValidity(state, mailboxFull, undefined, 1)).toEqual({
      valid: false,
      consecutiveErrors: 3,
    });
  });

  test('a pre-error was never sent: no change', () => {
    const state = { valid: true, consecutiveErrors: 2 };
    expect(applyOutcomeToValidity(state, missingAddress)).toEqual(state);
  });

  test('the given state is never modified', () => {
    const state = { valid: true, consecutiveErrors: 2 };
    applyOutcomeToValidity(state, mailboxFull);
    applyOutcomeToValidity(state, delivered);
    expect(state).toEqual({ valid: true, consecutiveErrors: 2 });
  });
});

describe('turning valid again', () => {
  test('a delivery resets the counter but does not make an invalid address valid; only a user does', () => {
    const invalid = apply([unknownUser, unknownUser, unknownUser]);
    expect(applyOutcomeToValidity(invalid, delivered)).toEqual({ valid: false, consecutiveErrors: 0 });
  });

  test("within one recorded chunk a delivery wins over the same lead's errors", () => {
    const chunk = summarizeEvidence([validityEvidence(mailboxFull, 1), validityEvidence(delivered, 1)]);
    expect(nextLeadValidity({ valid: true, consecutiveErrors: 2 }, chunk)).toEqual({
      valid: true,
      consecutiveErrors: 0,
    });
  });
});

describe('address status', () => {
  const errors = (n: number, invalidNow = false) => ({ delivered: false, errors: n, invalidNow });

  test("a first error records the address as erroneous; the quarantine threshold (5 by default, apart from the lead flag's 3) quarantines it", () => {
    const first = nextAddressStatus(null, errors(1));
    expect(first).toEqual({ status: 'erroneous', errorCount: 1 });
    const third = nextAddressStatus(nextAddressStatus(first, errors(1)), errors(1));
    expect(third).toEqual({ status: 'erroneous', errorCount: 3 });
    const fifth = nextAddressStatus(nextAddressStatus(third, errors(1)), errors(1));
    expect(fifth).toEqual({ status: 'quarantined', errorCount: 5 });
    expect(nextAddressStatus(first, errors(2), 3)).toEqual({ status: 'quarantined', errorCount: 3 });
  });

  test('a hard unknown user or closed account quarantines at once; soft, undefined and policy blocks do not', () => {
    const evidence = (reply: string) =>
      summarizeEvidence([validityEvidence(classifySmtpReply({ response: reply }), 1)]);
    expect(nextAddressStatus(null, evidence('550 5.1.1 User unknown'))).toEqual({
      status: 'quarantined',
      errorCount: 1,
    });
    expect(
      nextAddressStatus(null, evidence('550 5.2.1 The email account that you tried to reach is inactive')),
    ).toMatchObject({
      status: 'quarantined',
    });
    // The lead's flag is not invalidated at once by 42550 (the first manual): only counted.
    expect(nextLeadValidity(fresh(), evidence('550 5.1.1 User unknown'))).toEqual({
      valid: true,
      consecutiveErrors: 1,
    });
    expect(
      nextAddressStatus(null, evidence('452-4.2.2 The email account that you tried to reach is over quota.')),
    ).toEqual({
      status: 'erroneous',
      errorCount: 1,
    });
    expect(
      nextAddressStatus(null, evidence('550 5.7.1 Message rejected as spam'))?.status ?? 'none',
    ).not.toBe('quarantined');
  });

  test('an allowlisted address keeps its status; a delivery restarts its count', () => {
    expect(
      nextAddressStatus(
        { status: 'allowlisted', errorCount: 6 },
        { delivered: true, errors: 0, invalidNow: false },
      ),
    ).toEqual({
      status: 'allowlisted',
      errorCount: 0,
    });
  });

  test('a permanent error quarantines at once', () => {
    expect(nextAddressStatus(null, errors(1, true))).toEqual({ status: 'quarantined', errorCount: 1 });
  });

  test("blocklisted and allowlisted are a user's decision: errors count but the status stays", () => {
    expect(nextAddressStatus({ status: 'blocklisted', errorCount: 0 }, errors(5, true))).toEqual({
      status: 'blocklisted',
      errorCount: 5,
    });
    expect(nextAddressStatus({ status: 'allowlisted', errorCount: 2 }, errors(1))).toEqual({
      status: 'allowlisted',
      errorCount: 3,
    });
  });

  test('a delivery clears a quarantine back to valid, and leaves a blocklisting alone', () => {
    const deliveredChunk = { delivered: true, errors: 1, invalidNow: false };
    expect(nextAddressStatus({ status: 'quarantined', errorCount: 4 }, deliveredChunk)).toEqual({
      status: 'valid',
      errorCount: 0,
    });
    expect(nextAddressStatus({ status: 'blocklisted', errorCount: 4 }, deliveredChunk)).toEqual({
      status: 'blocklisted',
      errorCount: 4,
    });
    expect(nextAddressStatus(null, deliveredChunk)).toBeNull();
  });
});

describe('phone numbers (SMS results)', () => {
  const receipt = (errorType: string, reason: string) => ({ result: 'error', errorType, reason });

  test('hard and soft errors count; a hard unknown subscriber or closed account quarantines at once', () => {
    expect(phoneEvidence(receipt('soft', 'unreachable'), 1)).toEqual({
      delivered: false,
      counts: true,
      invalidNow: false,
      quarantineNow: false,
    });
    expect(phoneEvidence(receipt('hard', 'unknown_user'), 1).quarantineNow).toBe(true);
    expect(phoneEvidence(receipt('hard', 'invalid_account'), 1).quarantineNow).toBe(true);
    expect(phoneEvidence(receipt('soft', 'invalid_account'), 1).quarantineNow).toBe(false);
    expect(phoneEvidence(receipt('hard', 'refused'), 1)).toMatchObject({
      counts: true,
      quarantineNow: false,
    });
  });

  test('a handset that is off (ignored) or an undefined receipt counts against nobody; an accepted submit is no delivery yet', () => {
    expect(phoneEvidence(receipt('ignored', 'not_connected'), 1)).toMatchObject({
      counts: false,
      quarantineNow: false,
    });
    expect(phoneEvidence(receipt('undefined', 'undefined'), 1)).toMatchObject({
      counts: false,
      quarantineNow: false,
    });
    expect(phoneEvidence({ result: 'sent' }, 1).delivered).toBe(false);
    expect(phoneEvidence({ result: 'delivered' }, 1).delivered).toBe(true);
  });
});
