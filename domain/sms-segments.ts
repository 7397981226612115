// SMS encoding, segmentation and body rules (SPEC §6, REFERENCE "SMS").
// Pure: imported by workflow code to decide pre-errors before any send.
import { splitByCost } from './split-by-cost';

export type SmsEncoding = 'gsm7' | 'ucs2';

// GSM 03.38 default alphabet. ESC (0x1B) is left out: it only introduces an
// extension character and is not something a body may contain by itself.
const GSM7_BASIC = new Set(
  Array.from(
    '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
      '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
  ),
);
// Extension table: each is sent as ESC + code, so it costs two septets.
const GSM7_EXTENSION = new Set(Array.from('\f^{}\\[~]|€'));

const GSM7_SINGLE_UNITS = 160;
const GSM7_PART_UNITS = 153; // 7 septets go to the concatenation UDH
const UCS2_SINGLE_UNITS = 70;
const UCS2_PART_UNITS = 67;

export function smsEncoding(text: string): SmsEncoding {
  for (const ch of text) {
    if (!GSM7_BASIC.has(ch) && !GSM7_EXTENSION.has(ch)) return 'ucs2';
  }
  return 'gsm7';
}

/** Wire units one character costs: septets in GSM-7, UTF-16 code units in UCS-2. */
function unitsOf(ch: string, encoding: SmsEncoding): number {
  if (encoding === 'ucs2') return ch.length; // astral characters (emoji) are surrogate pairs: 2
  return GSM7_EXTENSION.has(ch) ? 2 : 1;
}

export interface SmsLength {
  encoding: SmsEncoding;
  units: number;
  /** Unicode code points: what the product's 70/660-character rules count. */
  characters: number;
}

export function smsLength(text: string): SmsLength {
  const encoding = smsEncoding(text);
  let units = 0;
  let characters = 0;
  for (const ch of text) {
    units += unitsOf(ch, encoding);
    characters += 1;
  }
  return { encoding, units, characters };
}

/**
 * The parts the text is sent as. Iterating by code point keeps an extension
 * escape (ESC + code) or a surrogate pair whole: a character that does not fit
 * in the rest of a part starts the next one, leaving that part one unit short.
 */
export function splitSegments(text: string): string[] {
  if (text.length === 0) return [];
  const { encoding, units } = smsLength(text);
  const single = encoding === 'gsm7' ? GSM7_SINGLE_UNITS : UCS2_SINGLE_UNITS;
  if (units <= single) return [text];

  const perPart = encoding === 'gsm7' ? GSM7_PART_UNITS : UCS2_PART_UNITS;
  return splitByCost(text, perPart, (ch) => unitsOf(ch, encoding));
}

export function segmentCount(text: string): number {
  return splitSegments(text).length;
}

/** Seed: one message is 70 characters; longer bodies need the "allow long messages" option. */
export const SMS_SINGLE_LIMIT_CHARS = 70;
/** Seed: the product never sends more than 660 characters. */
export const SMS_MAX_CHARS = 660;
/** Japanese carriers accept at most 10 concatenated parts (REFERENCE "SMS"). */
export const SMS_MAX_SEGMENTS = 10;

export type SmsPreError =
  'not_mobile' | 'short_url_failed' | 'over_single_limit' | 'over_max_length' | 'empty_body';

export const SMS_PRE_ERROR_DETAIL: Record<SmsPreError, string> = {
  not_mobile: 'not a mobile phone number',
  short_url_failed: 'short URL generation failed',
  over_single_limit: 'over the 1-message (70 characters) limit, long messages not allowed',
  over_max_length: 'over the maximum of 660 characters',
  empty_body: 'the message body is empty',
};

export type SmsError =
  'internal_error' | 'sending_failed' | 'some_parts_failed' | 'result_unconfirmed' | 'handset_unreachable';

export const SMS_ERROR_DETAIL: Record<SmsError, string> = {
  internal_error: 'internal error',
  sending_failed: 'sending failed',
  some_parts_failed: 'some of the split messages failed',
  result_unconfirmed: 'the result could not be confirmed',
  handset_unreachable: 'handset out of range or switched off',
};

/**
 * Body rules checked before sending.
 *
 * Characters are code points, as a person counts them: an emoji such as 👍 is
 * one character. On the wire it is a surrogate pair (2 UCS-2 units), so a body
 * within the character limits can still need more parts than those limits
 * promise; the part count is therefore checked as well:
 * - without long messages, the body must fit one part ("1 message");
 * - with them, it must fit the carriers' 10 parts.
 * A body that breaks the absolute maximum reports that, whatever the option,
 * because allowing long messages would not fix it.
 */
export function checkSmsBody(text: string, allowLong: boolean): SmsPreError | null {
  if (text.trim().length === 0) return 'empty_body';
  const { characters } = smsLength(text);
  const parts = segmentCount(text);
  if (characters > SMS_MAX_CHARS || parts > SMS_MAX_SEGMENTS) return 'over_max_length';
  if (!allowLong && (characters > SMS_SINGLE_LIMIT_CHARS || parts > 1)) return 'over_single_limit';
  return null;
}
