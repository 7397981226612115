// Replies to our SMS (mobile-originated messages): which ones opt the number out of SMS
// bulk sends. Pure rules; the reply is recorded and applied by inbound/sms-replies.ts.
//
// A reply opts out when, after normalization (Unicode NFKC, so full-width "ＳＴＯＰ" is
// "STOP"; upper case; punctuation and spaces at either end removed), it is a keyword, or
// begins with one: a Latin keyword followed by a space or punctuation ("STOP please"), a
// Japanese one followed by anything ("配信停止してください"), since Japanese is written
// without spaces. A keyword somewhere later in the text ("don't stop") does not opt out.

/** English and Japanese defaults (SMS_OPT_OUT_KEYWORDS replaces them). */
export const DEFAULT_SMS_OPT_OUT_KEYWORDS: readonly string[] = [
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'OPTOUT',
  'OPT OUT',
  '配信停止',
  '配信解除',
  '停止',
  '解除',
  'ストップ',
  'すとっぷ',
];

export type SmsReplyKind = 'opt_out' | 'reply';

export interface SmsReplyReading {
  kind: SmsReplyKind;
  /** The keyword that matched, as configured ('' for a plain reply). */
  keyword: string;
}

// Letters and digits of any script, so "STOPPED" is not "STOP" followed by a boundary.
const WORD_CHAR = /[\p{L}\p{N}]/u;
const EDGE_PUNCTUATION = /^[\s\p{P}\p{S}]+|[\s\p{P}\p{S}]+$/gu;

export function normalizeReply(text: string): string {
  return text.normalize('NFKC').toUpperCase().replace(EDGE_PUNCTUATION, '').replace(/\s+/gu, ' ');
}

function isLatin(keyword: string): boolean {
  return /^[\p{Script=Latin}\p{N} ]+$/u.test(keyword);
}

/** Whether the reply opts out, and by which keyword (the longest that matches). */
export function readSmsReply(text: string, keywords: readonly string[]): SmsReplyReading {
  const reply = normalizeReply(text);
  let best = '';
  for (const configured of keywords) {
    const keyword = normalizeReply(configured);
    if (keyword.length === 0 || !reply.startsWith(keyword)) continue;
    const next = reply.charAt(keyword.length);
    if (next !== '' && isLatin(keyword) && WORD_CHAR.test(next)) continue;
    if (keyword.length > normalizeReply(best).length) best = configured;
  }
  return best ? { kind: 'opt_out', keyword: best } : { kind: 'reply', keyword: '' };
}

/** SMS_OPT_OUT_KEYWORDS: comma-separated; empty or unset gives the defaults. */
export function parseOptOutKeywords(raw: string): string[] {
  const list = raw
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
  return list.length > 0 ? list : [...DEFAULT_SMS_OPT_OUT_KEYWORDS];
}
