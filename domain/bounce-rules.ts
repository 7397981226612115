// Bounce qualification rules (SPEC §5): remote texts → error type, reason and
// platform code (SPEC §3). Built-in rules are data shipped with the product;
// user rules are stored rows that take precedence over them.

import { normalizeBounceText } from './bounce-normalize';
import type { ErrorReason, ErrorType } from './error-reasons';

export interface BounceRule {
  id?: string | number;
  pattern: string;
  isRegex: boolean;
  errorType: ErrorType;
  reason: ErrorReason;
  /**
   * Qualification code the text means (SPEC §3, e.g. 42550). Asynchronous
   * bounces are still recorded with 90000; the caller decides that.
   */
  code: number;
  origin: 'builtin' | 'user';
}

export const MAX_RULE_PATTERN_LENGTH = 500;
// Matching cost is bounded by the text length too, not only by the rule check.
const MAX_MATCH_TEXT_LENGTH = 4000;

function rule(
  id: string,
  pattern: string,
  errorType: ErrorType,
  reason: ErrorReason,
  code: number,
  isRegex = true,
): BounceRule {
  return { id: `builtin:${id}`, pattern, isRegex, errorType, reason, code, origin: 'builtin' };
}

/**
 * Order matters: the first match wins, so specific wordings come before
 * generic ones (mailbox full before "mailbox unavailable", invalid domain
 * before "does not exist", Exchange's directory-based "Access denied" before the
 * policy rules), and bare enhanced status codes come last as a fallback.
 *
 * Policy rejections (spam, blocklists, authentication, volume) use 42530, not
 * 42521: 42521 invalidates the address after one occurrence, and a reputation
 * problem is ours, not the recipient's. A message that is too large is a soft
 * refusal with 42554 (transaction failed): the content is at fault, not the
 * address, and the seed allows `refused` only as soft or hard.
 */
// One rule per line so the list reads as the table it is.
// prettier-ignore
export const BUILTIN_BOUNCE_RULES: readonly BounceRule[] = Object.freeze([
  // Mailbox full: soft, back to valid after 30 days (SPEC §4).
  rule('mailbox-full', String.raw`\bmail ?box (?:is |was )?(?:full|over ?quota)\b`, 'soft', 'mailbox_full', 42552),
  rule('over-quota', String.raw`\bover ?quota\b|\bquota (?:exceeded|full)\b|\bexceeded (?:the |their |its )?(?:storage|quota)\b`, 'soft', 'mailbox_full', 42552),
  rule('storage-limit', String.raw`\b(?:storage|mailbox size) (?:limit|allocation) (?:exceeded|reached)\b|\bover (?:the )?storage\b`, 'soft', 'mailbox_full', 42552),
  rule('mailbox-full-ja', String.raw`メールボックス.{0,10}(?:容量|いっぱい|満杯)`, 'soft', 'mailbox_full', 42552),

  // Closed or disabled accounts.
  rule('account-disabled', String.raw`\b(?:account|mailbox)\b[^.;,]{0,60}\b(?:disabled|inactive|deactivated|suspended|closed)\b`, 'hard', 'invalid_account', 42550),
  rule('disabled-account', String.raw`\b(?:disabled|inactive|deactivated|suspended|closed) (?:account|mailbox|user)\b`, 'hard', 'invalid_account', 42550),

  // Domain does not resolve: soft, quarantined at the threshold (SPEC §5).
  rule('domain-not-found', String.raw`\b(?:host|domain)(?: name)? (?:not found|unknown|does not exist|doesn't exist)\b|\bunknown (?:host|domain)\b|\bno such domain\b`, 'soft', 'invalid_domain', 41605),
  rule('nxdomain', String.raw`\bNXDOMAIN\b|\bname service error\b`, 'soft', 'invalid_domain', 41605),
  rule('no-mx', String.raw`\bno (?:mx|mail exchanger|valid mx)(?: records?)?\b`, 'soft', 'invalid_domain', 41605),

  // Unknown recipients.
  rule('exchange-dbeb', String.raw`5\.4\.1 recipient address rejected: access denied`, 'hard', 'unknown_user', 42550),
  rule('user-unknown', String.raw`\buser(?:name)? (?:is )?(?:unknown|not found)\b|\bunknown (?:user|recipient|local[- ]part|mailbox)\b`, 'hard', 'unknown_user', 42550),
  rule('no-such-user', String.raw`\bno such (?:user|recipient|mailbox|address|account)\b`, 'hard', 'unknown_user', 42550),
  rule('does-not-exist', String.raw`\b(?:does not|doesn't|no longer) exists?\b`, 'hard', 'unknown_user', 42550),
  rule('exchange-recipient-not-found', 'RecipientNotFound', 'hard', 'unknown_user', 42550, false),
  rule('mailbox-unavailable', String.raw`\bmailbox (?:is )?(?:unavailable|not found|not available|unknown)\b`, 'hard', 'unknown_user', 42550),
  rule('invalid-recipient', String.raw`\b(?:invalid|bad) (?:recipient|mailbox)\b|\brecipient (?:not found|unknown|invalid)\b`, 'hard', 'unknown_user', 42550),
  rule('no-account-here', String.raw`\bdoes(?:n't| not) have an? [^\s]{1,60} account\b`, 'hard', 'unknown_user', 42550),
  rule('unknown-user-ja', String.raw`(?:宛先|アドレス|ユーザー?).{0,10}(?:存在しません|見つかりません|不明)`, 'hard', 'unknown_user', 42550),
  rule('user-not-local', String.raw`\buser not local\b`, 'hard', 'unknown_user', 42551),
  rule('bad-address-syntax', String.raw`\bmailbox name not allowed\b|\bbad (?:destination )?(?:mailbox )?address syntax\b`, 'hard', 'unknown_user', 42553),

  // Policy: spam, blocklists, authentication, volume.
  rule('spam', String.raw`\b(?:spam|unsolicited|junk mail|bulk mail)\b`, 'soft', 'refused', 42530),
  rule('blocklist', String.raw`\b(?:block|black|deny|ban)[- ]?list(?:ed)?\b|\bblocked\b|\bbanned\b|\bspamhaus\b|\bspamcop\b|\b(?:RBL|DNSBL)\b`, 'soft', 'refused', 42530),
  rule('reputation', String.raw`\breputation\b`, 'soft', 'refused', 42530),
  rule('authentication', String.raw`\b(?:dmarc|dkim|spf)\b[^.;]{0,40}\b(?:fail|failed|failure|reject|rejected|policy)\b|\bunauthenticated\b`, 'soft', 'refused', 42530),
  rule('volume', String.raw`\btoo many (?:connections|messages)\b|\brate limit|\btemporarily deferred\b|\bthrottl`, 'soft', 'refused', 42530),
  rule('relay-denied', String.raw`\brelay(?:ing)? (?:access )?(?:denied|not permitted)\b|\bnot permitted to relay\b`, 'soft', 'refused', 42530),
  rule('access-denied', 'access denied', 'soft', 'refused', 42530, false),

  // The message, not the address, is at fault.
  rule('message-too-large', String.raw`\bmessage (?:size )?(?:is )?too (?:large|big)\b|\bmessage size exceeds\b|\bexceeds (?:the )?(?:maximum )?(?:message )?size limit\b`, 'soft', 'refused', 42554),

  // Gave up or could not connect.
  rule('expired', String.raw`\bdelivery time expired\b|\bmessage expired\b|\bretry (?:time(?:out)?|period) (?:exceeded|expired)\b`, 'soft', 'unreachable', 41606),
  rule('connection', String.raw`\bconnection (?:timed out|refused)\b|\bno route to host\b|\bnetwork is unreachable\b|\bhost unreachable\b`, 'soft', 'unreachable', 41601),

  // Fallbacks on the RFC 3463 enhanced status code alone.
  rule('status-5.1.1', String.raw`(?<![\d.])5\.1\.(?:1|10)(?![\d]|\.\d)`, 'hard', 'unknown_user', 42550),
  rule('status-5.1.2', String.raw`(?<![\d.])5\.1\.2(?![\d]|\.\d)`, 'soft', 'invalid_domain', 41605),
  rule('status-x.2.2', String.raw`(?<![\d.])[45]\.2\.2(?![\d]|\.\d)`, 'soft', 'mailbox_full', 42552),
  rule('status-5.2.1', String.raw`(?<![\d.])5\.2\.1(?![\d]|\.\d)`, 'hard', 'invalid_account', 42550),
  rule('status-5.3.4', String.raw`(?<![\d.])5\.3\.4(?![\d]|\.\d)`, 'soft', 'refused', 42554),
  rule('status-4.4.7', String.raw`(?<![\d.])4\.4\.7(?![\d]|\.\d)`, 'soft', 'unreachable', 41606),
  rule('status-5.7.x', String.raw`(?<![\d.])5\.7\.\d{1,3}(?![\d]|\.\d)`, 'soft', 'refused', 42530),
]);

// Compiled user patterns are cached; bounded because user rules are edited over time.
const MAX_CACHED_PATTERNS = 1000;
const compiled = new Map<string, RegExp | null>();

function compile(pattern: string): RegExp | null {
  const cached = compiled.get(pattern);
  if (cached !== undefined) return cached;
  let re: RegExp | null;
  try {
    re = new RegExp(pattern, 'i');
  } catch {
    re = null;
  }
  if (compiled.size >= MAX_CACHED_PATTERNS) compiled.clear();
  compiled.set(pattern, re);
  return re;
}

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim().toLowerCase();
}

interface Subject {
  raw: string;
  normalized: string;
  rawFolded: string;
  normalizedFolded: string;
}

function ruleMatches(rule: BounceRule, subject: Subject): boolean {
  if (typeof rule.pattern !== 'string' || rule.pattern.trim() === '') return false;
  if (rule.isRegex) {
    const re = compile(rule.pattern);
    return re !== null && (re.test(subject.raw) || re.test(subject.normalized));
  }
  const needle = collapse(rule.pattern);
  return subject.rawFolded.includes(needle) || subject.normalizedFolded.includes(needle);
}

/**
 * Finds the rule for a bounce text. User rules are tried before built-in ones,
 * each group in the given order; the first match wins. A rule matches either
 * the raw text or its normalized form, so user rules copied from the
 * qualification list (with `#xxx#` and `*`) work. Invalid regexes never throw;
 * they match nothing.
 */
export function matchBounceRule(text: string, rules: readonly BounceRule[]): BounceRule | null {
  if (typeof text !== 'string' || text.trim() === '') return null;
  const raw = text.slice(0, MAX_MATCH_TEXT_LENGTH);
  const normalized = normalizeBounceText(raw);
  const subject: Subject = {
    raw,
    normalized,
    rawFolded: collapse(raw),
    normalizedFolded: collapse(normalized),
  };
  for (const origin of ['user', 'builtin'] as const) {
    for (const r of rules) {
      if (r.origin === origin && ruleMatches(r, subject)) return r;
    }
  }
  return null;
}

const QUANTIFIER_AT = /^(?:[+*]|\{\d+(?:,\d*)?\})/;

/**
 * Heuristic guard against catastrophic backtracking: rejects a quantified group
 * that itself contains a quantifier, as in `(a+)+` or `(\w+\s?)*`. Bounded
 * repeats of a single class (`[^.]{0,60}`) are fine and stay allowed.
 */
function hasNestedQuantifier(pattern: string): boolean {
  const groupHasQuantifier: boolean[] = [];
  const markEnclosing = (): void => {
    if (groupHasQuantifier.length > 0) groupHasQuantifier[groupHasQuantifier.length - 1] = true;
  };
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') groupHasQuantifier.push(false);
    else if (c === ')') {
      const inner = groupHasQuantifier.pop() ?? false;
      const quantified = QUANTIFIER_AT.test(pattern.slice(i + 1));
      if (inner && quantified) return true;
      if (inner) markEnclosing();
    } else if (QUANTIFIER_AT.test(pattern.slice(i))) markEnclosing();
  }
  return false;
}

/** Error message for a rule pattern a user wants to save, or null when it is acceptable. */
export function validateRulePattern(pattern: string, isRegex: boolean): string | null {
  if (typeof pattern !== 'string' || pattern.trim() === '') return 'pattern is empty';
  if (pattern.length > MAX_RULE_PATTERN_LENGTH) {
    return `pattern is longer than ${MAX_RULE_PATTERN_LENGTH} characters`;
  }
  if (!isRegex) return null;
  let re: RegExp;
  try {
    re = new RegExp(pattern, 'i');
  } catch (err) {
    return `invalid regular expression: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (re.test('')) return 'pattern matches an empty text, so it would match every bounce';
  if (hasNestedQuantifier(pattern)) {
    return 'pattern nests quantifiers (like (a+)+), which can make matching hang; simplify it';
  }
  return null;
}
