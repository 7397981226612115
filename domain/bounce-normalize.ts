// Bounce text normalization (SPEC §5 "Bounce qualification"): the same remote
// error must land in one qualification row whatever address, queue id, date or
// IP it mentions, while the SMTP codes that carry its meaning stay readable.

export const VARIABLE_PLACEHOLDER = '#xxx#';
export const ADDRESS_PLACEHOLDER = '*';
export const MAX_NORMALIZED_LENGTH = 1000;
export const OCCURRENCE_CAP = 100_000;

// Bounds regex work on pathological input; real diagnostics are far shorter.
const MAX_INPUT_LENGTH = 20_000;

// Bounded repeats keep a long run of address characters without an "@" linear.
const LOCAL_PART = `(?:"[^"\\r\\n]{0,128}"|[\\p{L}\\p{N}!#$%&'*+\\/=?^_\`{|}~.-]{1,128})`;
const DOMAIN_PART = `(?:\\[[^\\]\\s]{1,64}\\]|[\\p{L}\\p{N}-]+(?:\\.[\\p{L}\\p{N}-]+)*)`;
const ADDRESS = new RegExp(`<\\s*${LOCAL_PART}@${DOMAIN_PART}\\s*>|${LOCAL_PART}@${DOMAIN_PART}`, 'gu');

// Dates and times are replaced whole: digit-by-digit replacement would split
// "2 Apr" and "12 Apr" into different groups.
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\\.?';
const WEEKDAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*\\.?,?';
const ZONE = '(?:\\s*(?:Z|UTC|GMT|UT|JST|[ECMP][SD]T|[+-]\\d{2}:?\\d{2}|\\((?:UTC|GMT|JST|[ECMP][SD]T)\\)))';
const TIME = `\\d{1,2}:\\d{2}(?::\\d{2}(?:[.,]\\d+)?)?(?:\\s*[AP]M)?${ZONE}{0,2}`;
const DATE_PATTERNS: readonly RegExp[] = [
  new RegExp(`(?<![\\w.])\\d{4}-\\d{1,2}-\\d{1,2}(?:[T ]${TIME})?(?!\\w)`, 'g'),
  new RegExp(`(?<![\\w./])\\d{4}\\/\\d{1,2}\\/\\d{1,2}(?:\\s+${TIME})?(?![\\w/])`, 'g'),
  new RegExp(`(?<![\\w./])\\d{1,2}\\/\\d{1,2}\\/\\d{2,4}(?:\\s+${TIME})?(?![\\w/])`, 'g'),
  new RegExp(`(?<![\\w.])\\d{1,2}\\.\\d{1,2}\\.\\d{4}(?:\\s+${TIME})?(?!\\w|\\.\\d)`, 'g'),
  new RegExp(`(?:${WEEKDAY}\\s*)?(?<!\\w)\\d{1,2}[\\s-]${MONTH}[\\s-]\\d{2,4}(?:\\s+${TIME})?(?!\\w)`, 'g'),
  // ctime / US style: "Tue Apr  2 01:23:45 2024", "April 2, 2024".
  new RegExp(
    `(?:${WEEKDAY}\\s*)?(?<!\\w)${MONTH}\\s+\\d{1,2}(?:,?\\s+\\d{4}(?:\\s+${TIME})?|\\s+${TIME}(?:\\s+\\d{4})?)(?!\\w)`,
    'g',
  ),
  /\d{2,4}年\d{1,2}月\d{1,2}日(?:\s*\d{1,2}時\d{1,2}分(?:\d{1,2}秒)?)?/g,
  new RegExp(`(?<![\\w:.])${TIME}(?![\\w:])`, 'g'),
];

const IPV4 = /(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w]|\.\d)/g;
// Candidates only (an IPv4 tail is already a placeholder); isIpv6 decides, so
// a port between colons ("]:25:") or words like "ab:cd:ef" survive.
const IPV6_CANDIDATE = /(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:#xxx#)?(?![\w:])/g;

const ENHANCED_CODE = /(?<![\w.])[245]\.\d{1,3}\.\d{1,3}(?!\w|\.\d)/g;
const BASIC_CODE = /(?<![\w.#*])[245][0-5]\d(?=$|[\s-])/g;
const FOLLOWED_BY_ENHANCED = /^[\s-]+[245]\.\d{1,3}\.\d{1,3}(?!\w|\.\d)/;
// Where a reply code starts: a new line, or after "said:", "smtp;", "(" … (or the text start).
const REPLY_START = /[\r\n:;([>"'。、：；（「][ \t]*$/;
// Context windows around a candidate code, so checking each one stays O(1).
const CONTEXT = 32;

const TOKEN = /[A-Za-z0-9_-]+/g;

// Private-use characters mark protected codes while the other rules run; any
// already in the input are dropped so they cannot be mistaken for markers.
const PRIVATE_USE = /[\uE000-\uF8FF]/g;
const MARKER = /\uE000([\uE100-\uF8FF])\uE001/g;

function isIpv6(candidate: string): boolean {
  const v4Tail = candidate.endsWith(VARIABLE_PLACEHOLDER);
  const core = v4Tail ? candidate.slice(0, -VARIABLE_PLACEHOLDER.length) : candidate;
  if (!/\d/.test(core) && !/[a-f]/i.test(core)) return false;
  if (/^:(?!:)/.test(core) || (!v4Tail && /(?<!:):$/.test(core))) return false;
  const colons = core.split(':').length - 1;
  const doubles = core.split('::').length - 1;
  if (doubles > 1) return false;
  return doubles === 1 || colons === (v4Tail ? 6 : 7);
}

function isVariableToken(token: string): boolean {
  const digits = token.replace(/\D/g, '').length;
  if (digits < 2) return false;
  // Pure numbers (and dashed number runs) are variable; short alphanumerics such
  // as "TSS04" or "S3150" name an error and are kept.
  return /^[\d_-]+$/.test(token) || token.length >= 6;
}

/**
 * Normalizes a remote server's bounce text so identical errors group:
 * addresses become `*`; dates, times, IPs, ids, hex strings and numbers of two
 * or more digits become `#xxx#`; the SMTP reply code and RFC 3463 enhanced
 * status code (`550 5.1.1`, `550-5.7.26`) are kept; whitespace is collapsed and
 * the result capped at 1000 characters.
 */
export function normalizeBounceText(text: string): string {
  if (typeof text !== 'string') return '';
  let s = text.slice(0, MAX_INPUT_LENGTH).replace(PRIVATE_USE, '');

  s = s.replace(ADDRESS, ADDRESS_PLACEHOLDER);
  for (const pattern of DATE_PATTERNS) s = s.replace(pattern, VARIABLE_PLACEHOLDER);
  s = s.replace(IPV4, VARIABLE_PLACEHOLDER);
  s = s.replace(IPV6_CANDIDATE, (m) => (isIpv6(m) ? VARIABLE_PLACEHOLDER : m));

  const kept: string[] = [];
  const protect = (code: string): string => {
    // Marker space (U+E100..U+F8FF) outlasts any capped input; past it, codes are simply not protected.
    if (kept.length > 0xf8ff - 0xe100) return code;
    kept.push(code);
    return `\uE000${String.fromCharCode(0xe100 + kept.length - 1)}\uE001`;
  };
  // Basic codes first: whether "550" is a reply code depends on the raw
  // enhanced code after it.
  s = s.replace(BASIC_CODE, (code: string, offset: number, whole: string) => {
    const after = whole.slice(offset + code.length, offset + code.length + CONTEXT);
    const before = whole.slice(Math.max(0, offset - CONTEXT), offset);
    const atTextStart = offset === before.length && before.trim() === '';
    return FOLLOWED_BY_ENHANCED.test(after) || atTextStart || REPLY_START.test(before) ? protect(code) : code;
  });
  s = s.replace(ENHANCED_CODE, protect);

  s = s.replace(TOKEN, (token) => (isVariableToken(token) ? VARIABLE_PLACEHOLDER : token));
  s = s.replace(MARKER, (_m, c: string) => kept[c.charCodeAt(0) - 0xe100] ?? '');

  s = s.replace(/\s+/g, ' ').trim();
  if (s.length > MAX_NORMALIZED_LENGTH) {
    let end = MAX_NORMALIZED_LENGTH;
    // Do not leave half of a surrogate pair at the cut.
    const last = s.charCodeAt(end - 1);
    if (last >= 0xd800 && last <= 0xdbff) end -= 1;
    s = s.slice(0, end).trimEnd();
  }
  return s;
}

/** Next occurrence count for a grouped bounce text, capped at OCCURRENCE_CAP. */
export function bumpOccurrence(n: number): number {
  const current = Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
  return Math.min(OCCURRENCE_CAP, current + 1);
}
