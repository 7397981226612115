import {
  ASYNC_BOUNCE_CODE,
  DELIVERY_CODES,
  DeliveryCode,
  PERMANENT_INVALIDATING_CODES,
  RETRY_EXPIRED_CODE,
  deliveryCodeClass,
  describeDeliveryCode,
  invalidatesAtOnce,
  isPreErrorCode,
  isSuccessCode,
  type DeliveryCodeClass,
} from '../../domain/delivery-codes';
import {
  ERROR_REASONS,
  ERROR_REASON_NAMES,
  errorReasonByTechnicalValue,
  isErrorReason,
  type ErrorReason,
  type ErrorType,
} from '../../domain/error-reasons';

// SPEC §3, row by row (42500–42504 and 91002, 91003 are one row each there).
const SPEC_SECTION_3: ReadonlyArray<[number, DeliveryCodeClass]> = [
  [40000, 'success'],
  [40001, 'success'],
  [41601, 'soft'],
  [41605, 'soft'],
  [41606, 'final'],
  [41607, 'final'],
  [41608, 'internal'],
  [41609, 'internal'],
  [42500, 'soft'],
  [42501, 'soft'],
  [42502, 'soft'],
  [42503, 'soft'],
  [42504, 'soft'],
  [42521, 'permanent'],
  [42530, 'soft'],
  [42535, 'soft'],
  [42550, 'hard'],
  [42551, 'permanent'],
  [42552, 'soft'],
  [42553, 'permanent'],
  [42554, 'soft'],
  [42559, 'hard'],
  [90000, 'hard'],
  [91001, 'pre_error'],
  [91002, 'pre_error'],
  [91003, 'pre_error'],
];

describe('SPEC §3 delivery codes', () => {
  test.each(SPEC_SECTION_3)('code %p exists with class %p', (code, codeClass) => {
    expect(DELIVERY_CODES[code]?.class).toBe(codeClass);
    expect(DELIVERY_CODES[code]?.meaning).toEqual(expect.any(String));
    expect(deliveryCodeClass(code)).toBe(codeClass);
  });

  test('the table holds no code the SPEC does not list', () => {
    expect(Object.keys(DELIVERY_CODES).map(Number).sort()).toEqual(
      SPEC_SECTION_3.map(([code]) => code).sort(),
    );
  });

  test('every named code is in the table', () => {
    for (const code of Object.values(DeliveryCode)) expect(DELIVERY_CODES[code]).toBeDefined();
  });

  test('40000 and 40001 are the only successes; an unknown code is not one', () => {
    const successes = SPEC_SECTION_3.map(([code]) => code).filter(isSuccessCode);
    expect(successes).toEqual([40000, 40001]);
    expect(isSuccessCode(12345)).toBe(false);
    expect(deliveryCodeClass(12345)).toBeNull();
  });

  test('the permanent errors 42521, 42551, 42553 invalidate at once, and no other code does', () => {
    expect([...PERMANENT_INVALIDATING_CODES].sort()).toEqual([42521, 42551, 42553]);
    const permanent = SPEC_SECTION_3.filter(([, codeClass]) => codeClass === 'permanent').map(
      ([code]) => code,
    );
    expect(permanent.sort()).toEqual([...PERMANENT_INVALIDATING_CODES].sort());
    expect(invalidatesAtOnce(42550)).toBe(false);
    expect(invalidatesAtOnce(42553)).toBe(true);
  });

  test('an asynchronous bounce is recorded as hard 90000; an exhausted retry schedule as 41606', () => {
    expect(ASYNC_BOUNCE_CODE).toBe(90000);
    expect(deliveryCodeClass(ASYNC_BOUNCE_CODE)).toBe('hard');
    expect(RETRY_EXPIRED_CODE).toBe(41606);
  });

  test('pre-errors are 91001-91003', () => {
    expect([91001, 91002, 91003].every(isPreErrorCode)).toBe(true);
    expect(isPreErrorCode(42550)).toBe(false);
  });

  test('a code is described with its meaning, an unknown one as unknown', () => {
    expect(describeDeliveryCode(42550)).toBe('42550 mailbox unavailable (unknown user or refused)');
    expect(describeDeliveryCode(12345)).toBe('12345 unknown delivery code');
  });
});

// SPEC §5, row by row: reason, type(s), technical value.
const SPEC_SECTION_5: ReadonlyArray<[ErrorReason, readonly ErrorType[], number, string]> = [
  ['unknown_user', ['hard'], 1, 'unknown user'],
  // SPEC lists "soft"; an explicit "bad destination domain" reply (RFC 3463 5.1.2) is hard (REFERENCE).
  ['invalid_domain', ['soft', 'hard'], 2, 'invalid domain'],
  ['unreachable', ['soft', 'hard'], 3, 'unreachable'],
  ['invalid_account', ['soft', 'hard'], 4, 'invalid account'],
  ['mailbox_full', ['soft'], 5, 'mailbox full'],
  ['not_connected', ['ignored'], 6, 'not connected'],
  ['address_not_specified', ['hard'], 7, 'address not specified'],
  ['blocklisted', ['hard'], 8, 'blocklisted address'],
  ['quarantined', ['hard'], 9, 'quarantined address'],
  ['duplicate', ['ignored'], 10, 'duplicate'],
  ['excluded_by_sql', ['ignored'], 11, 'excluded by SQL rule'],
  ['excluded_after_arbitration', ['ignored'], 12, 'excluded after arbitration'],
  ['poor_quality', ['ignored'], 14, 'poor-quality address'],
  ['unqualified', ['ignored'], 15, 'unqualified address'],
  ['not_eligible', ['ignored'], 16, 'not eligible for offers'],
  ['target_size_limited', ['ignored'], 17, 'target size limited'],
  ['refused', ['soft', 'hard'], 20, 'refused'],
  ['ignored_error', ['ignored'], 25, 'ignored error'],
  ['control_address', ['ignored'], 127, 'control address'],
  ['undefined', ['undefined'], 0, 'undefined'],
];

describe('SPEC §5 error reasons', () => {
  test.each(SPEC_SECTION_5)('%p is %p with technical value %p', (reason, types, technicalValue, label) => {
    const info = ERROR_REASONS[reason];
    expect(info.types).toEqual(types);
    expect(types).toContain(info.defaultType);
    expect(info.technicalValue).toBe(technicalValue);
    expect(info.label).toBe(label);
    expect(errorReasonByTechnicalValue(technicalValue)).toBe(reason);
  });

  test('the table holds exactly the SPEC reasons, with unique technical values', () => {
    expect([...ERROR_REASON_NAMES].sort()).toEqual(SPEC_SECTION_5.map(([reason]) => reason).sort());
    const values = ERROR_REASON_NAMES.map((reason) => ERROR_REASONS[reason].technicalValue);
    expect(new Set(values).size).toBe(values.length);
  });

  test('"soft / hard" reasons default to soft', () => {
    expect(ERROR_REASONS.refused.defaultType).toBe('soft');
    expect(ERROR_REASONS.unreachable.defaultType).toBe('soft');
  });

  test("only the table's keys are reasons (no inherited names)", () => {
    expect(isErrorReason('mailbox_full')).toBe(true);
    expect(isErrorReason('toString')).toBe(false);
    expect(isErrorReason('__proto__')).toBe(false);
    expect(isErrorReason(5)).toBe(false);
    expect(errorReasonByTechnicalValue(13)).toBeNull();
  });
});
