// Mobile-number check for SMS (SPEC §6 pre-error "not a mobile phone number").
// The "max" metadata is required: the default "min" bundle cannot tell number types apart.
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

export type MobileNumberCheck =
  | {
      ok: true;
      e164: string;
      /** E.164 digits without "+", as SMPP destination_addr wants them. */
      smppAddress: string;
    }
  | { ok: false; reason: 'malformed' | 'not_mobile'; type?: string };

// FIXED_LINE_OR_MOBILE: regions such as the US and Canada do not distinguish
// the two by number, and those numbers do receive SMS.
const MOBILE_TYPES: ReadonlySet<string> = new Set(['MOBILE', 'FIXED_LINE_OR_MOBILE']);

export function checkMobileNumber(raw: string, defaultRegion = 'JP'): MobileNumberCheck {
  let parsed: ReturnType<typeof parsePhoneNumberFromString>;
  try {
    parsed = parsePhoneNumberFromString(raw.trim(), defaultRegion as CountryCode);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (parsed === undefined || !parsed.isValid()) return { ok: false, reason: 'malformed' };

  const type = parsed.getType();
  // Japan: 060/070/080/090 are MOBILE; 050 is VOIP, 020 PAGER, 0120 TOLL_FREE, 03 FIXED_LINE.
  if (type === undefined || !MOBILE_TYPES.has(type)) {
    return type === undefined
      ? { ok: false, reason: 'not_mobile' }
      : { ok: false, reason: 'not_mobile', type };
  }
  return { ok: true, e164: parsed.number, smppAddress: parsed.number.slice(1) };
}
