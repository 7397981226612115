import { checkMobileNumber } from '../../domain/phone';

describe('checkMobileNumber: Japanese mobile numbers pass', () => {
  test.each([
    ['090 with hyphens', '090-1234-5678', '+819012345678'],
    ['080 with spaces', '080 1234 5678', '+818012345678'],
    ['070 without separators', '07012345678', '+817012345678'],
    ['060', '060-1234-5678', '+816012345678'],
    ['international format', '+81 90 1234 5678', '+819012345678'],
    [
      'full-width digits and hyphens, as typed in Japanese forms',
      '０９０－１２３４－５６７８',
      '+819012345678',
    ],
    ['surrounding whitespace', '  09012345678 ', '+819012345678'],
  ])('%s (%p) is a mobile number', (_name, raw, e164) => {
    expect(checkMobileNumber(raw)).toEqual({ ok: true, e164, smppAddress: e164.slice(1) });
  });
});

describe('checkMobileNumber: numbers that cannot receive SMS are not mobile', () => {
  test.each([
    ['050 is VOIP', '050-1234-5678', 'VOIP'],
    ['0120 is toll free', '0120-123-456', 'TOLL_FREE'],
    ['03 is a fixed line', '03-1234-5678', 'FIXED_LINE'],
    ['020 is a pager', '020-1234-5678', 'PAGER'],
  ])('%s', (_name, raw, type) => {
    expect(checkMobileNumber(raw)).toEqual({ ok: false, reason: 'not_mobile', type });
  });
});

describe('checkMobileNumber: malformed input', () => {
  test.each([
    ['an empty string', '', 'JP'],
    ['letters', 'not a number', 'JP'],
    ['a 090 number one digit short', '090-1234-567', 'JP'],
    ['a 090 number one digit long', '090-1234-56789', 'JP'],
    ['an unknown default region with a national number', '09012345678', 'XX'],
  ])('%s is malformed', (_name, raw, region) => {
    expect(checkMobileNumber(raw, region)).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('checkMobileNumber: other regions', () => {
  test('a UK mobile in international format passes whatever the default region', () => {
    expect(checkMobileNumber('+44 7400 123456')).toEqual({
      ok: true,
      e164: '+447400123456',
      smppAddress: '447400123456',
    });
  });

  test('a US number (fixed line or mobile, not distinguishable) counts as mobile', () => {
    expect(checkMobileNumber('(415) 555-2671', 'US')).toEqual({
      ok: true,
      e164: '+14155552671',
      smppAddress: '14155552671',
    });
  });
});
