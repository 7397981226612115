// The exclusion rules of SPEC 2 as a reader checks them; the same rules run in
// PostgreSQL, compared case by case in test/integration/rules-differential.test.ts.
import { and, evaluateRule, input, literal, matches, or } from '../../domain/rule-expr';
import { resolveTargets, type TargetCandidate } from '../../domain/target-exclusions';
import { ERROR_REASONS } from '../../domain/error-reasons';

const emailLead = (leadId: number, over: Record<string, unknown> = {}): TargetCandidate => ({
  leadId,
  inputs: {
    email: `lead${leadId}@example.jp`,
    emailValid: true,
    unsubscribed: false,
    dmPermission: true,
    permissionFilter: false,
    addressStatus: null,
    addressErrorCount: null,
    addressErrorType: null,
    addressErrorReason: null,
    quarantineThreshold: 5,
    includeAlreadySent: false,
    sentThisTemplateBefore: false,
    ...over,
  } as TargetCandidate['inputs'],
});

const reasonOf = (candidate: TargetCandidate) =>
  resolveTargets('email', [candidate]).excluded[0]?.reason ?? null;

describe('email targets (SPEC 2)', () => {
  test.each([
    ['no address', { email: null }, 'address_not_specified'],
    ['not an email address', { email: 'lead at example.jp' }, 'address_not_specified'],
    ['a space inside', { email: 'le ad@example.jp' }, 'address_not_specified'],
    ['validity flag off', { emailValid: false }, 'invalid_address'],
    ['unsubscribed', { unsubscribed: true }, 'unsubscribed'],
    [
      'no DM permission under the permission filter',
      { permissionFilter: true, dmPermission: false },
      'no_permission',
    ],
    ['no DM permission without the filter', { dmPermission: false }, null],
    ['blocklisted address', { addressStatus: 'blocklisted' }, 'blocklisted'],
    ['quarantined address', { addressStatus: 'quarantined' }, 'quarantined'],
    ['erroneous address (not yet quarantined)', { addressStatus: 'erroneous' }, null],
    [
      'validity flag off but an allowlisted address',
      { emailValid: false, addressStatus: 'allowlisted' },
      null,
    ],
    [
      'validity flag off and a quarantined address',
      { emailValid: false, addressStatus: 'quarantined' },
      'invalid_address',
    ],
    ['already sent this template', { sentThisTemplateBefore: true }, 'already_sent'],
    [
      'already sent, but the run includes already-sent leads',
      { sentThisTemplateBefore: true, includeAlreadySent: true },
      null,
    ],
  ])('when a lead has %s, then its reason is %s', (_what, over, reason) => {
    expect(reasonOf(emailLead(1, over))).toBe(reason);
  });

  test.each([
    ['an invalid flag', { emailValid: false }, true],
    ['errors at the quarantine threshold', { addressErrorCount: 5 }, true],
    [
      'a hard closed account',
      { addressErrorCount: 1, addressErrorType: 'hard', addressErrorReason: 'invalid_account' },
      true,
    ],
    ['a valid flag and fewer errors than the threshold', { addressErrorCount: 4 }, false],
  ])(
    'when an allowlisted address has %s, then it is sent to, marked ignored error (reason 25): %s',
    (_w, over, ignored) => {
      const r = resolveTargets('email', [emailLead(1, { addressStatus: 'allowlisted', ...over })]);
      expect(r.targets).toEqual([{ leadId: 1, address: 'lead1@example.jp', ignoredError: ignored }]);
    },
  );

  test('when an address is not allowlisted, then its errors are never marked ignored', () => {
    expect(resolveTargets('email', [emailLead(1, { addressErrorCount: 9 })]).targets[0]?.ignoredError).toBe(
      false,
    );
  });

  test('the first reason that applies is the one recorded', () => {
    expect(reasonOf(emailLead(1, { email: null, emailValid: false, unsubscribed: true }))).toBe(
      'address_not_specified',
    );
    expect(reasonOf(emailLead(1, { emailValid: false, addressStatus: 'blocklisted' }))).toBe(
      'invalid_address',
    );
  });

  test('a missing address is named as SPEC 5 names it', () => {
    expect(ERROR_REASONS.address_not_specified.technicalValue).toBe(7);
  });

  test('when two leads share an address (in any case), then the later lead is a duplicate', () => {
    const result = resolveTargets('email', [
      emailLead(7, { email: 'Same@Example.jp' }),
      emailLead(3, { email: 'same@example.jp' }),
      emailLead(5, { email: 'same@example.jp', unsubscribed: true }),
    ]);
    expect(result.targets).toEqual([{ leadId: 3, address: 'same@example.jp', ignoredError: false }]);
    expect(result.excluded).toEqual([
      { leadId: 5, address: 'same@example.jp', reason: 'unsubscribed' },
      { leadId: 7, address: 'Same@Example.jp', reason: 'duplicate' },
    ]);
  });
});

describe('sms and line targets', () => {
  const smsLead = (
    leadId: number,
    phone: string | null,
    over: Record<string, unknown> = {},
  ): TargetCandidate => ({
    leadId,
    inputs: {
      phone,
      countryCallingCode: '81',
      unsubscribed: false,
      smsPermission: true,
      permissionFilter: false,
      addressStatus: null,
      addressErrorCount: null,
      addressErrorType: null,
      addressErrorReason: null,
      quarantineThreshold: 5,
      includeAlreadySent: false,
      sentThisTemplateBefore: false,
      ...over,
    } as TargetCandidate['inputs'],
  });

  test.each([
    ['blocklisted', { addressStatus: 'blocklisted' }, 'blocklisted'],
    ['quarantined', { addressStatus: 'quarantined' }, 'quarantined'],
    ['erroneous (below the threshold)', { addressStatus: 'erroneous', addressErrorCount: 4 }, null],
  ])('when a number is %s, then its reason is %s', (_what, over, reason) => {
    const r = resolveTargets('sms', [smsLead(1, '090-1234-5678', over)]);
    expect(r.excluded[0]?.reason ?? null).toBe(reason);
  });

  test.each([
    ['errors at the threshold', { addressErrorCount: 5 }, true],
    [
      'a hard unknown user',
      { addressErrorCount: 1, addressErrorType: 'hard', addressErrorReason: 'unknown_user' },
      true,
    ],
    ['a soft error below the threshold', { addressErrorCount: 2, addressErrorType: 'soft' }, false],
    [
      'no error since its last delivery',
      { addressErrorCount: 0, addressErrorType: 'hard', addressErrorReason: 'unknown_user' },
      false,
    ],
  ])(
    'when an allowlisted number has %s, then it is sent to, marked ignored error: %s',
    (_what, over, ignored) => {
      const r = resolveTargets('sms', [
        smsLead(1, '090-1234-5678', { addressStatus: 'allowlisted', ...over }),
      ]);
      expect(r.targets).toEqual([{ leadId: 1, address: '090-1234-5678', ignoredError: ignored }]);
    },
  );

  test('when two numbers are the same once normalized (national, +81, 0081), then only the first is sent', () => {
    const result = resolveTargets('sms', [
      smsLead(1, '090-1234-5678'),
      smsLead(2, '+81 90 1234 5678'),
      smsLead(3, '0081 90 1234 5678'),
      smsLead(4, '   '),
    ]);
    expect(result.targets).toEqual([{ leadId: 1, address: '090-1234-5678', ignoredError: false }]);
    expect(result.excluded.map((e) => e.reason)).toEqual(['duplicate', 'duplicate', 'address_not_specified']);
  });

  test('when a LINE user id is missing or malformed, then the reason says which', () => {
    const line = (leadId: number, lineUserId: string | null): TargetCandidate => ({
      leadId,
      inputs: { lineUserId, unsubscribed: false, includeAlreadySent: false, sentThisTemplateBefore: false },
    });
    const result = resolveTargets('line', [line(1, ''), line(2, 'U123'), line(3, `U${'ab'.repeat(16)}`)]);
    expect(result.excluded.map((e) => e.reason)).toEqual(['address_not_specified', 'invalid_address']);
    expect(result.targets.map((t) => t.leadId)).toEqual([3]);
  });
});

describe('the rule language reads null as SQL does', () => {
  test('unknown AND false is false, unknown OR true is true, otherwise unknown stays unknown', () => {
    const x = input('x');
    expect(evaluateRule(and(x, literal(false)), { x: null })).toBe(false);
    expect(evaluateRule(or(x, literal(true)), { x: null })).toBe(true);
    expect(evaluateRule(and(x, literal(true)), { x: null })).toBeNull();
  });

  test('a pattern whose meaning follows the database locale is refused', () => {
    expect(() => evaluateRule(matches(input('x'), '^[[:space:]]$'), { x: ' ' })).toThrow(/differs/);
    expect(() => evaluateRule(matches(input('x'), '^\\s$'), { x: ' ' })).toThrow(/differs/);
  });

  test('an input the caller did not give is an error, not a silent null', () => {
    expect(() => evaluateRule(input('missing'), {})).toThrow(/not given/);
  });
});
